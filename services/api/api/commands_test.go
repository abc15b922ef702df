package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// accepted is the body of a successful POST.
type accepted struct {
	CommandID string                   `json:"command_id"`
	OrderID   string                   `json:"order_id"`
	Kind      contracts.CommandKind    `json:"kind"`
	Duplicate bool                     `json:"duplicate"`
	StatusURL string                   `json:"status_url"`
	Result    *contracts.CommandResult `json:"result"`
}

func expectAccepted(t *testing.T, r response, orderID string, kind contracts.CommandKind) accepted {
	t.Helper()
	if r.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", r.StatusCode, r.body)
	}
	var a accepted
	r.json(t, &a)
	if a.OrderID != orderID || a.Kind != kind || a.StatusURL != "/orders/"+orderID+"/status" || a.CommandID == "" {
		t.Fatalf("unexpected accepted body %+v", a)
	}
	if loc := r.Header.Get("Location"); loc != a.StatusURL {
		t.Fatalf("Location %q, want %q", loc, a.StatusURL)
	}
	return a
}

// TestSeedCurlCommands sends the seed README's curl requests verbatim and
// checks the exact command each one stored in ORDER_COMMANDS.
func TestSeedCurlCommands(t *testing.T) {
	e := newEnv(t, nil)

	// curl -X POST .../orders/order-123/start -H "Content-Type: application/json" -d '{"payment_id": "payment-456"}'
	r := e.do("POST", "/orders/order-123/start", `{"payment_id": "payment-456"}`, "Content-Type", "application/json")
	a := expectAccepted(t, r, "order-123", contracts.CommandStart)
	if _, err := uuid.Parse(a.CommandID); err != nil || a.Duplicate {
		t.Fatalf("command_id %q should be a fresh UUID, duplicate=%v", a.CommandID, a.Duplicate)
	}
	cmd := e.expectOneCommand("orders.commands.order-123.start", a.CommandID)
	if cmd.PaymentID != "payment-456" || len(cmd.Items) != 1 || cmd.Items[0] != domain.DefaultItems()[0] ||
		cmd.Address == nil || *cmd.Address != domain.DefaultAddress() || cmd.ManualReview || cmd.IssuedAt.IsZero() {
		t.Fatalf("start command %+v lacks the seed defaults", cmd)
	}
	e.purgeCommands()

	// curl -X POST .../orders/order-123/signals/cancel   (no body, no content type)
	r = e.do("POST", "/orders/order-123/signals/cancel", "")
	a = expectAccepted(t, r, "order-123", contracts.CommandCancel)
	if cmd := e.expectOneCommand("orders.commands.order-123.cancel", a.CommandID); cmd.Reason != "" {
		t.Fatalf("cancel carries reason %q", cmd.Reason)
	}
	e.purgeCommands()

	// curl -X POST .../signals/update-address -H "Content-Type: application/json" -d '{ ... }'
	r = e.do("POST", "/orders/order-123/signals/update-address", `{
    "street": "123 Main St",
    "city": "San Francisco",
    "state": "CA",
    "zip_code": "94105"
  }`, "Content-Type", "application/json")
	a = expectAccepted(t, r, "order-123", contracts.CommandUpdateAddress)
	cmd = e.expectOneCommand("orders.commands.order-123.update-address", a.CommandID)
	want := domain.Address{Street: "123 Main St", City: "San Francisco", State: "CA", ZipCode: "94105"}
	if cmd.Address == nil || *cmd.Address != want {
		t.Fatalf("update-address carries %+v, want %+v", cmd.Address, want)
	}
	e.purgeCommands()

	r = e.do("POST", "/orders/order-123/signals/approve", "")
	a = expectAccepted(t, r, "order-123", contracts.CommandApprove)
	e.expectOneCommand("orders.commands.order-123.approve", a.CommandID)
	e.purgeCommands()

	// curl .../orders/order-123/status: nobody knows the order yet.
	expectProblem(t, e.do("GET", "/orders/order-123/status", ""), http.StatusNotFound, "")
}

// TestStartWithFullBody carries items, address, manual review and a cancel
// reason through to the stored commands unchanged.
func TestStartWithFullBody(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("POST", "/orders/o_full-1/start", `{"payment_id":"p-9","manual_review":true,
		"items":[{"sku":"A","quantity":2,"price_cents":150},{"sku":"B","quantity":1,"price_cents":0}],
		"address":{"street":"1 A St","city":"B","state":"C","zip_code":"D"}}`,
		"Content-Type", "application/json; charset=utf-8")
	a := expectAccepted(t, r, "o_full-1", contracts.CommandStart)
	cmd := e.expectOneCommand("orders.commands.o_full-1.start", a.CommandID)
	if !cmd.ManualReview || len(cmd.Items) != 2 || cmd.Items[0].Quantity != 2 || cmd.Items[1].SKU != "B" ||
		cmd.Address.Street != "1 A St" || domain.TotalCents(cmd.Items) != 300 {
		t.Fatalf("start command %+v", cmd)
	}
	e.purgeCommands()
	r = e.do("POST", "/orders/o_full-1/signals/cancel", `{"reason":"changed my mind"}`, "Content-Type", "application/json")
	a = expectAccepted(t, r, "o_full-1", contracts.CommandCancel)
	if cmd := e.expectOneCommand("orders.commands.o_full-1.cancel", a.CommandID); cmd.Reason != "changed my mind" {
		t.Fatalf("reason %q", cmd.Reason)
	}
}

// TestIdempotencyKey: the key becomes the command ID and the message ID,
// so a repeated POST is stored once and answered duplicate:true.
func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t, nil)
	const key = "checkout-42.attempt:1"
	first := expectAccepted(t, e.do("POST", "/orders/order-7/start", `{"payment_id":"p-7"}`,
		"Content-Type", "application/json", "Idempotency-Key", key), "order-7", contracts.CommandStart)
	second := expectAccepted(t, e.do("POST", "/orders/order-7/start", `{"payment_id":"p-7"}`,
		"Content-Type", "application/json", "Idempotency-Key", key), "order-7", contracts.CommandStart)
	if first.CommandID != key || second.CommandID != key {
		t.Fatalf("command IDs %q, %q, want %q", first.CommandID, second.CommandID, key)
	}
	if first.Duplicate || !second.Duplicate {
		t.Fatalf("duplicate flags %v, %v; want false, true", first.Duplicate, second.Duplicate)
	}
	e.expectOneCommand("orders.commands.order-7.start", key)

	// Without a key every POST is a new command.
	e.purgeCommands()
	a1 := expectAccepted(t, e.do("POST", "/orders/order-7/signals/approve", ""), "order-7", contracts.CommandApprove)
	a2 := expectAccepted(t, e.do("POST", "/orders/order-7/signals/approve", ""), "order-7", contracts.CommandApprove)
	if a1.CommandID == a2.CommandID || a2.Duplicate {
		t.Fatalf("keyless POSTs share command ID %q or are duplicates", a1.CommandID)
	}
	if n := len(e.commandMsgs()); n != 2 {
		t.Fatalf("%d stored, want 2", n)
	}
}

// TestBadInputIsRejectedAndNothingPublished covers every validation error
// of the command routes: each names the field as problem+json and none
// reaches the broker.
func TestBadInputIsRejectedAndNothingPublished(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.BodyLimit = 2048 })
	const js = "application/json"
	cases := []struct {
		name, path, body, ctype string
		headers                 []string
		status                  int
		field                   string
	}{
		{"order id with a dot", "/orders/order.1/start", `{"payment_id":"p"}`, js, nil, 400, "order_id"},
		{"order id with a space", "/orders/order%201/signals/cancel", "", "", nil, 400, "order_id"},
		{"order id too long", "/orders/" + strings.Repeat("a", 65) + "/signals/approve", "", "", nil, 400, "order_id"},
		{"missing payment_id", "/orders/o1/start", `{}`, js, nil, 400, "payment_id"},
		{"blank payment_id", "/orders/o1/start", `{"payment_id":"  "}`, js, nil, 400, "payment_id"},
		{"no body on start", "/orders/o1/start", "", "", nil, 400, "payment_id"},
		{"payment_id too long", "/orders/o1/start", `{"payment_id":"` + strings.Repeat("p", 129) + `"}`, js, nil, 400, "payment_id"},
		{"payment_id not a string", "/orders/o1/start", `{"payment_id":5}`, js, nil, 400, "payment_id"},
		{"explicit empty items", "/orders/o1/start", `{"payment_id":"p","items":[]}`, js, nil, 400, "items"},
		{"item quantity zero", "/orders/o1/start", `{"payment_id":"p","items":[{"sku":"a","quantity":0,"price_cents":1}]}`, js, nil, 400, "items[0].quantity"},
		{"item negative price", "/orders/o1/start", `{"payment_id":"p","items":[{"sku":"a","quantity":1,"price_cents":1},{"sku":"b","quantity":1,"price_cents":-1}]}`, js, nil, 400, "items[1].price_cents"},
		{"item without sku", "/orders/o1/start", `{"payment_id":"p","items":[{"quantity":1,"price_cents":1}]}`, js, nil, 400, "items[0].sku"},
		{"item unknown field", "/orders/o1/start", `{"payment_id":"p","items":[{"sku":"a","quantity":1,"price_cents":1,"color":"red"}]}`, js, nil, 400, "color"},
		{"item quantity fractional", "/orders/o1/start", `{"payment_id":"p","items":[{"sku":"a","quantity":1.5,"price_cents":1}]}`, js, nil, 400, "items.quantity"},
		{"start address incomplete", "/orders/o1/start", `{"payment_id":"p","address":{"street":"s","city":"c","state":"s"}}`, js, nil, 400, "zip_code"},
		{"unknown top-level field", "/orders/o1/start", `{"payment_id":"p","paymentId":"p"}`, js, nil, 400, "paymentId"},
		{"invalid JSON", "/orders/o1/start", `{"payment_id":`, js, nil, 400, "body"},
		{"JSON syntax error", "/orders/o1/start", `{"payment_id" "p"}`, js, nil, 400, "body"},
		{"trailing data", "/orders/o1/start", `{"payment_id":"p"} {"x":1}`, js, nil, 400, "body"},
		{"array body", "/orders/o1/start", `[{"payment_id":"p"}]`, js, nil, 400, "body"},
		{"text/plain body", "/orders/o1/start", `{"payment_id":"p"}`, "text/plain", nil, 415, "Content-Type"},
		{"body without content type", "/orders/o1/signals/cancel", `{"reason":"x"}`, "", nil, 415, "Content-Type"},
		{"cancel reason too long", "/orders/o1/signals/cancel", `{"reason":"` + strings.Repeat("r", 501) + `"}`, js, nil, 400, "reason"},
		{"cancel unknown field", "/orders/o1/signals/cancel", `{"why":"x"}`, js, nil, 400, "why"},
		{"update-address without body", "/orders/o1/signals/update-address", "", "", nil, 400, "body"},
		{"update-address missing zip", "/orders/o1/signals/update-address", `{"street":"s","city":"c","state":"s"}`, js, nil, 400, "zip_code"},
		{"update-address blank city", "/orders/o1/signals/update-address", `{"street":"s","city":" ","state":"s","zip_code":"1"}`, js, nil, 400, "city"},
		{"update-address oversized street", "/orders/o1/signals/update-address", `{"street":"` + strings.Repeat("s", 201) + `","city":"c","state":"s","zip_code":"1"}`, js, nil, 400, "street"},
		{"approve with a field", "/orders/o1/signals/approve", `{"approved":true}`, js, nil, 400, "approved"},
		{"bad idempotency key", "/orders/o1/signals/approve", "", "", []string{"Idempotency-Key", "has space"}, 400, "Idempotency-Key"},
		{"idempotency key too long", "/orders/o1/signals/approve", "", "", []string{"Idempotency-Key", strings.Repeat("k", 129)}, 400, "Idempotency-Key"},
		{"body over the limit", "/orders/o1/start", `{"payment_id":"` + strings.Repeat("p", 4096) + `"}`, js, nil, 413, "body"},
		{"unknown signal", "/orders/o1/signals/refund", "", "", nil, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := append([]string{}, tc.headers...)
			if tc.ctype != "" {
				h = append(h, "Content-Type", tc.ctype)
			}
			se := *e
			// The body limit is enforced while reading the connection, which
			// only a real listener shows.
			se.t, se.overNetwork = t, tc.status == http.StatusRequestEntityTooLarge
			expectProblem(t, se.do("POST", tc.path, tc.body, h...), tc.status, tc.field)
		})
	}
	if msgs := e.commandMsgs(); len(msgs) != 0 {
		t.Fatalf("bad input published %d commands, first on %s: %s", len(msgs), msgs[0].Subject(), msgs[0].Data())
	}
}

// TestUnknownRoutesAndMethods answer problem+json too.
func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t, nil)
	expectProblem(t, e.do("GET", "/nope", ""), http.StatusNotFound, "")
	expectProblem(t, e.do("DELETE", "/orders/o1", ""), http.StatusMethodNotAllowed, "")
	expectProblem(t, e.do("GET", "/orders/o1/start", ""), http.StatusMethodNotAllowed, "")
}

// fakeBridge consumes ORDER_COMMANDS like the bridge does and publishes an
// outcome per command into ORDER_RESULTS; it is the bridge's contract
// played by the test, over the real broker.
func fakeBridge(t *testing.T, e *env, outcome func(contracts.Command) (contracts.Outcome, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cons, err := e.JS.CreateConsumer(ctx, contracts.StreamCommands, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		cmd, err := contracts.DecodeCommand(m.Subject(), m.Data())
		if err != nil {
			t.Errorf("fake bridge got undecodable command: %v", err)
			return
		}
		o, reason := outcome(cmd)
		res := contracts.CommandResult{CommandID: cmd.CommandID, OrderID: cmd.OrderID, Kind: cmd.Kind,
			Outcome: o, Reason: reason, WorkflowID: contracts.OrderWorkflowID(cmd.OrderID), At: time.Now().UTC()}
		msg, err := natsx.ResultMsg(res)
		if err != nil {
			t.Errorf("result msg: %v", err)
			return
		}
		if _, err := e.JS.PublishMsg(ctx, msg); err != nil && ctx.Err() == nil {
			t.Errorf("publish result: %v", err)
		}
		_ = m.Ack()
	})
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	t.Cleanup(cc.Stop)
}

// TestPreferWait: with Prefer: wait the answer carries the bridge's
// outcome (200), a rejection with its reason (409), or falls back to 202
// when no outcome arrives in time; a duplicate finds the stored outcome.
func TestPreferWait(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.WaitMax = 2 * time.Second })
	fakeBridge(t, e, func(c contracts.Command) (contracts.Outcome, string) {
		switch {
		case c.Kind == contracts.CommandStart:
			return contracts.OutcomeStarted, ""
		case c.OrderID == "late":
			return contracts.OutcomeRejected, "carrier already dispatched"
		case c.OrderID == "silent":
			time.Sleep(3 * time.Second) // longer than the capped wait
		}
		return contracts.OutcomeApplied, ""
	})

	r := e.do("POST", "/orders/w1/start", `{"payment_id":"p"}`, "Content-Type", "application/json",
		"Prefer", "wait=5", "Idempotency-Key", "w1-start")
	if r.StatusCode != http.StatusOK || r.Header.Get("Preference-Applied") != "wait=2" {
		t.Fatalf("status %d, Preference-Applied %q; body %s", r.StatusCode, r.Header.Get("Preference-Applied"), r.body)
	}
	var a accepted
	r.json(t, &a)
	if a.Result == nil || a.Result.Outcome != contracts.OutcomeStarted || a.Result.CommandID != "w1-start" {
		t.Fatalf("result %+v", a.Result)
	}

	// The same key again: the broker drops it, the stored outcome answers.
	r = e.do("POST", "/orders/w1/start", `{"payment_id":"p"}`, "Content-Type", "application/json",
		"Prefer", "wait=2", "Idempotency-Key", "w1-start")
	r.json(t, &a)
	if r.StatusCode != http.StatusOK || !a.Duplicate || a.Result == nil || a.Result.Outcome != contracts.OutcomeStarted {
		t.Fatalf("duplicate with wait: status %d body %s", r.StatusCode, r.body)
	}

	r = e.do("POST", "/orders/w1/signals/cancel", "", "Prefer", "respond-async, wait=1")
	r.json(t, &a)
	if r.StatusCode != http.StatusOK || a.Result == nil || a.Result.Outcome != contracts.OutcomeApplied {
		t.Fatalf("cancel with wait: status %d body %s", r.StatusCode, r.body)
	}

	p := expectProblem(t, e.do("POST", "/orders/late/signals/cancel", "", "Prefer", "wait=2"), http.StatusConflict, "")
	if p.Detail != "carrier already dispatched" || p.Result == nil || p.Result.Outcome != contracts.OutcomeRejected {
		t.Fatalf("rejection problem %+v", p)
	}

	start := time.Now()
	r = e.do("POST", "/orders/silent/signals/approve", "", "Prefer", "wait=1")
	expectAccepted(t, r, "silent", contracts.CommandApprove)
	if d := time.Since(start); d < time.Second || d > 2500*time.Millisecond {
		t.Fatalf("wait=1 took %s", d)
	}

	// Without Prefer the answer does not wait for the bridge.
	expectAccepted(t, e.do("POST", "/orders/w2/signals/approve", ""), "w2", contracts.CommandApprove)
}

// TestPublishFailsWhileNATSIsDown: a POST never answers 202 unless the
// broker stored the command; with NATS down it is a 503 problem.
func TestPublishFailsWhileNATSIsDown(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.RequestTimeout = time.Second; c.StatusTimeout = 200 * time.Millisecond })
	e.NATS.Shutdown()
	r := e.do("POST", "/orders/down-1/start", `{"payment_id":"p"}`, "Content-Type", "application/json")
	expectProblem(t, r, http.StatusServiceUnavailable, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("503 without Retry-After")
	}
	p := expectProblem(t, e.do("GET", "/readyz", ""), http.StatusServiceUnavailable, "")
	if p.Checks["nats"] == "ok" || p.Checks["postgres"] != "ok" {
		t.Fatalf("readiness checks %v", p.Checks)
	}
	e.NATS.Start()
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return e.do("GET", "/readyz", "").StatusCode == http.StatusOK, "waiting for readiness after NATS restart"
	})
	a := expectAccepted(t, e.do("POST", "/orders/down-1/start", `{"payment_id":"p"}`, "Content-Type", "application/json"),
		"down-1", contracts.CommandStart)
	var found bool
	for _, m := range e.commandMsgs() {
		found = found || m.Headers().Get(contracts.HeaderMsgID) == a.CommandID
	}
	if !found {
		t.Fatalf("command %s accepted after restart but not stored", a.CommandID)
	}
}
