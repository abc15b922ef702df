package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/integration/stack"
	"github.com/orderflow/orderflow/shared/testenv"
)

// channel is one AsyncAPI channel with its compiled message schemas.
type channel struct {
	name     string
	address  *regexp.Regexp // nil for the reply inbox
	enums    map[string][]string
	messages []message
}

type message struct {
	name             string
	headers, payload *jsonschema.Schema
	payloadIsText    bool // the schema describes the body's text, not JSON
}

// contract is contracts/asyncapi.yaml, checked against the AsyncAPI 3.0.0
// JSON Schema, with every payload and header schema compiled.
type contract struct{ channels map[string]*channel }

func loadContract(t *testing.T) *contract {
	t.Helper()
	dir := filepath.Join(testenv.RepoRoot(t), "contracts")
	raw, err := os.ReadFile(filepath.Join(dir, "asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("asyncapi.yaml: %v", err)
	}
	docJSON, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}

	// The document itself against the official AsyncAPI 3.0.0 schema.
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	spec := readJSON(t, filepath.Join("testdata", "asyncapi-3.0.0.schema.json"))
	if err := c.AddResource("https://asyncapi.com/schema-3.0.0.json", spec); err != nil {
		t.Fatal(err)
	}
	specSchema, err := c.Compile("https://asyncapi.com/schema-3.0.0.json")
	if err != nil {
		t.Fatalf("compile AsyncAPI schema: %v", err)
	}
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(docJSON))
	if err := specSchema.Validate(inst); err != nil {
		t.Fatalf("asyncapi.yaml is not a valid AsyncAPI 3.0.0 document: %v", err)
	}

	// The payload and header schemas, addressed by their $id.
	files, _ := filepath.Glob(filepath.Join(dir, "schemas", "*.json"))
	const base = "https://orderflow.example/schemas/"
	for _, f := range files {
		s := readJSON(t, f)
		if id := s.(map[string]any)["$id"]; id != base+filepath.Base(f) {
			t.Fatalf("%s: $id %v, want %s", f, id, base+filepath.Base(f))
		}
		if err := c.AddResource(base+filepath.Base(f), s); err != nil {
			t.Fatal(err)
		}
	}
	compile := func(ref string) *jsonschema.Schema {
		t.Helper()
		s, err := c.Compile(base + strings.TrimPrefix(ref, "./schemas/"))
		if err != nil {
			t.Fatalf("compile %s: %v", ref, err)
		}
		return s
	}

	var parsed struct {
		Channels map[string]struct {
			Address    *string `json:"address"`
			Parameters map[string]struct {
				Enum []string `json:"enum"`
			} `json:"parameters"`
			Messages map[string]struct {
				Ref string `json:"$ref"`
			} `json:"messages"`
		} `json:"channels"`
		Components struct {
			Messages map[string]struct {
				Headers struct {
					Ref string `json:"$ref"`
				} `json:"headers"`
				Payload struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"payload"`
			} `json:"messages"`
		} `json:"components"`
	}
	if err := json.Unmarshal(docJSON, &parsed); err != nil {
		t.Fatal(err)
	}
	out := &contract{channels: map[string]*channel{}}
	for name, ch := range parsed.Channels {
		cc := &channel{name: name, enums: map[string][]string{}}
		if ch.Address != nil {
			pattern := regexp.QuoteMeta(*ch.Address)
			for p, spec := range ch.Parameters {
				pattern = strings.Replace(pattern, regexp.QuoteMeta("{"+p+"}"), "(?P<"+p+">[^.]+)", 1)
				cc.enums[p] = spec.Enum
			}
			if strings.Contains(pattern, `\{`) {
				t.Fatalf("channel %s: address %s has an undeclared parameter", name, *ch.Address)
			}
			cc.address = regexp.MustCompile("^" + pattern + "$")
		}
		for mname, m := range ch.Messages {
			comp, ok := parsed.Components.Messages[strings.TrimPrefix(m.Ref, "#/components/messages/")]
			if !ok || comp.Payload.Schema.Ref == "" {
				t.Fatalf("channel %s message %s: no payload schema behind %s", name, mname, m.Ref)
			}
			msg := message{name: mname, payload: compile(comp.Payload.Schema.Ref)}
			msg.payloadIsText = strings.Contains(comp.Payload.Schema.Ref, "status-request") ||
				strings.Contains(comp.Payload.Schema.Ref, "dead-letter")
			if comp.Headers.Ref != "" {
				msg.headers = compile(comp.Headers.Ref)
			}
			cc.messages = append(cc.messages, msg)
		}
		out.channels[name] = cc
	}
	return out
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// captured is one message seen on the wire.
type captured struct {
	subject string
	header  nats.Header
	data    []byte
}

// validate checks m against the channel its subject belongs to (or the
// named channel, for reply inboxes) and returns that channel's name.
func (c *contract) validate(m captured, channelName string) (string, error) {
	var ch *channel
	if channelName != "" {
		ch = c.channels[channelName]
	} else {
		for _, cand := range c.channels {
			if cand.address == nil {
				continue
			}
			if match := cand.address.FindStringSubmatch(m.subject); match != nil {
				ch = cand
				for i, p := range cand.address.SubexpNames() {
					if enum := cand.enums[p]; i > 0 && len(enum) > 0 && !contains(enum, match[i]) {
						return cand.name, fmt.Errorf("subject %s: %s %q is not one of %v", m.subject, p, match[i], enum)
					}
				}
				break
			}
		}
	}
	if ch == nil {
		return "", fmt.Errorf("subject %s belongs to no channel of the AsyncAPI document", m.subject)
	}
	var errs []string
	for _, msg := range ch.messages {
		if err := msg.check(m); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", msg.name, err))
			continue
		}
		return ch.name, nil
	}
	return ch.name, fmt.Errorf("%s on channel %s matches no message: %s\nbody: %s", m.subject, ch.name, strings.Join(errs, "; "), m.data)
}

func (msg message) check(m captured) error {
	if msg.headers != nil {
		h := map[string]any{}
		for k, v := range m.header {
			h[k] = v[0]
		}
		if err := msg.headers.Validate(h); err != nil {
			return fmt.Errorf("headers: %w", err)
		}
	}
	var body any = string(m.data)
	if !msg.payloadIsText {
		var err error
		if body, err = jsonschema.UnmarshalJSON(bytes.NewReader(m.data)); err != nil {
			return fmt.Errorf("body is not JSON: %w", err)
		}
	}
	if err := msg.payload.Validate(body); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestAsyncAPIDescribesRealTraffic runs the whole system, drives orders
// through the HTTP API and the Go client (start, manual review, address
// change, approve, cancel, a late cancel, a malformed command and a
// malformed event, status requests), captures every message on orders.>
// and every status reply, and validates each against the AsyncAPI document.
// Every channel of the document must have been seen.
func TestAsyncAPIDescribesRealTraffic(t *testing.T) {
	contract := loadContract(t)
	s := stack.Start(t, stack.Options{})

	var mu sync.Mutex
	var wire []captured
	sub, err := s.NC.Subscribe("orders.>", func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		wire = append(wire, captured{subject: m.Subject, header: m.Header, data: bytes.Clone(m.Data)})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := s.NC.Flush(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := s.Client(t)
	post := func(path, body string, headers ...string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.APIURL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	viaAPI, viaClient, cancelled := testenv.UniqueName("aa-api"), testenv.UniqueName("aa-client"), testenv.UniqueName("aa-cancel")
	if code := post("/orders/"+viaAPI+"/start", `{"payment_id":"pay-`+viaAPI+`"}`, "Prefer", "wait=10"); code != http.StatusOK {
		t.Fatalf("start via API: %d", code)
	}
	addr := client.Address{Street: "9 Elm St", City: "Portland", State: "OR", ZipCode: "97201"}
	if _, err := c.Start(ctx, viaClient, client.StartOrder{PaymentID: "pay-" + viaClient, ManualReview: true,
		Items: []client.Item{{SKU: "BOOK-1", Quantity: 2, PriceCents: 1250}}, Address: &addr}, client.WithWait(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateAddress(ctx, viaClient, client.Address{Street: "1 Loop Rd", City: "Austin", State: "TX", ZipCode: "73301"},
		client.WithWait(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx, cancelled, client.StartOrder{PaymentID: "pay-" + cancelled, ManualReview: true}, client.WithWait(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		st, err := c.Status(ctx, viaClient)
		return err == nil && st.Status.State == client.StateAwaitingApproval, "waiting for manual review"
	})
	if code := post("/orders/"+viaClient+"/signals/approve", ``, "Prefer", "wait=10"); code != http.StatusOK {
		t.Fatalf("approve via API: %d", code)
	}
	if code := post("/orders/"+cancelled+"/signals/cancel", `{"reason":"changed my mind"}`, "Prefer", "wait=10"); code != http.StatusOK {
		t.Fatalf("cancel via API: %d", code)
	}
	for _, id := range []string{viaAPI, viaClient} {
		testenv.Eventually(t, 30*time.Second, func() (bool, string) { return s.OrderState(t, id) == "shipped", "waiting for " + id + " shipped" })
	}
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		return s.OrderState(t, cancelled) == "cancelled", "waiting for " + cancelled + " cancelled"
	})
	// Too late: once the workflow has closed, the bridge rejects with a reason.
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		st, err := c.Status(ctx, viaAPI)
		return err == nil && st.WorkflowStatus == "COMPLETED", "waiting for " + viaAPI + " workflow closed"
	})
	if _, err := c.Cancel(ctx, viaAPI, "too late", client.WithWait(10*time.Second)); err == nil {
		t.Fatalf("cancel of a shipped order was not rejected")
	}

	// Status request/reply, for a finished order and an unknown one.
	var replies []captured
	for _, id := range []string{viaAPI, viaClient, testenv.UniqueName("aa-unknown")} {
		m, err := s.NC.RequestWithContext(ctx, client.StatusSubject(id), nil)
		if err != nil {
			t.Fatalf("status request: %v", err)
		}
		replies = append(replies, captured{subject: m.Subject, header: m.Header, data: m.Data})
	}

	// What can never be processed: a malformed command and a malformed event.
	badCommand := client.CommandSubject(testenv.UniqueName("aa-bad"), client.KindStart)
	badEvent := client.EventSubject(testenv.UniqueName("aa-bad"), client.EventReceived)
	if _, err := s.JS.Publish(ctx, badCommand, []byte(`{"payment_id":`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JS.Publish(ctx, badEvent, []byte(`{"not":"an event"}`)); err != nil {
		t.Fatal(err)
	}
	seen := func(subject string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range wire {
			if m.subject == subject {
				return true
			}
		}
		return false
	}
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		return seen(client.DLQCommands) && seen(client.DLQEvents), "waiting for both dead letters"
	})

	mu.Lock()
	msgs := append([]captured(nil), wire...)
	mu.Unlock()
	hits := map[string]int{}
	var sample captured
	for _, m := range msgs {
		if m.subject == badCommand || m.subject == badEvent {
			continue // deliberately outside the contract; their dead letters are checked
		}
		name, err := contract.validate(m, "")
		if err != nil {
			t.Error(err)
			continue
		}
		hits[name]++
		if name == "events" && strings.HasSuffix(m.subject, ".shipped") {
			sample = m
		}
	}
	for _, r := range replies {
		if _, err := contract.validate(r, "statusReply"); err != nil {
			t.Error(err)
		}
		hits["statusReply"]++
	}
	for name := range contract.channels {
		if hits[name] == 0 {
			t.Errorf("channel %s: no message seen in the run", name)
		}
	}
	t.Logf("validated messages per channel: %v", hits)

	// The schemas are strict: an undocumented field or a missing one fails.
	for what, mutate := range map[string]func(map[string]any){
		"extra field":   func(e map[string]any) { e["priority"] = "high" },
		"missing seq":   func(e map[string]any) { delete(e, "seq") },
		"unknown state": func(e map[string]any) { e["order"].(map[string]any)["state"] = "lost" },
		"seq as string": func(e map[string]any) { e["seq"] = "7" },
		"bad tracking type": func(e map[string]any) {
			e["order"].(map[string]any)["shipping"].(map[string]any)["tracking_number"] = 7
		},
	} {
		var e map[string]any
		if err := json.Unmarshal(sample.data, &e); err != nil {
			t.Fatal(err)
		}
		mutate(e)
		body, _ := json.Marshal(e)
		if _, err := contract.validate(captured{subject: sample.subject, header: sample.header, data: body}, ""); err == nil {
			t.Errorf("a shipped event with %s passed validation", what)
		}
	}
}
