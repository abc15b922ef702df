package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/temporalx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// apiKey is one issued key: the secret the client sends and its file line.
type apiKey struct {
	client, scopes, secret string
}

func newKey(client, scopes string) apiKey {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return apiKey{client: client, scopes: scopes, secret: "ofk_" + hex.EncodeToString(b)}
}

func (k apiKey) digest() string {
	d := sha256.Sum256([]byte(k.secret))
	return hex.EncodeToString(d[:])
}

func (k apiKey) line() string { return k.client + " " + k.scopes + " " + k.digest() }

func (k apiKey) bearer() []string { return []string{"Authorization", "Bearer " + k.secret} }

// writeKeys writes an API keys file with a comment, as an operator would.
func writeKeys(t *testing.T, path string, keys ...apiKey) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# orderflow API keys: <client-id> <scopes> <sha256 of key>\n\n")
	for _, k := range keys {
		b.WriteString(k.line() + "  # issued by the test\n")
	}
	// Replace atomically, as a deploy tool or a Kubernetes secret does.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// keyed is an API with keys for alice (everything), bob (everything),
// reader (orders:read) and writer (orders:write).
type keyed struct {
	*env
	keysFile                   string
	alice, bob, reader, writer apiKey
	aliceOrder, unknownOrder   string
}

const allScopes = "orders:write,orders:approve,orders:read"

func newKeyed(t *testing.T, mutate func(*api.Config), log *slog.Logger) *keyed {
	t.Helper()
	k := &keyed{
		keysFile: filepath.Join(t.TempDir(), "api-keys"),
		alice:    newKey("alice", allScopes),
		bob:      newKey("bob", allScopes),
		reader:   newKey("reader", "orders:read"),
		writer:   newKey("writer", "orders:write"),
	}
	writeKeys(t, k.keysFile, k.alice, k.bob, k.reader, k.writer)
	if log == nil {
		log = testenv.Logger(t)
	}
	k.env = newEnvLog(t, func(c *api.Config) {
		c.APIKeysFile = k.keysFile
		c.AuthReload = 20 * time.Millisecond
		if mutate != nil {
			mutate(c)
		}
	}, log)
	k.aliceOrder = testenv.UniqueName("alice-order")
	k.unknownOrder = testenv.UniqueName("nobody")
	st := snapshot(k.aliceOrder, domain.StateAwaitingApproval, time.Now().UTC().Add(-time.Minute))
	st.Owner = "alice"
	k.insertOrder(st, 1, contracts.EventReceived)
	k.insertEvent(k.aliceOrder, 1, contracts.EventReceived, st.AcceptedAt, `{}`, st)
	return k
}

// route is one operation of the API with the scope it needs.
type route struct {
	method, path, body string
	scope              string
}

func routes(orderID string) []route {
	addr := `{"street":"2 Main St","city":"Springfield","state":"CA","zip_code":"94001"}`
	return []route{
		{"POST", "/orders/" + orderID + "/start", `{"payment_id":"pay-x"}`, "orders:write"},
		{"POST", "/orders/" + orderID + "/signals/cancel", "", "orders:write"},
		{"POST", "/orders/" + orderID + "/signals/update-address", addr, "orders:write"},
		{"POST", "/orders/" + orderID + "/signals/approve", "", "orders:approve"},
		{"GET", "/orders/" + orderID + "/status", "", "orders:read"},
		{"GET", "/orders/" + orderID, "", "orders:read"},
		{"GET", "/orders/" + orderID + "/events", "", "orders:read"},
		{"GET", "/orders", "", "orders:read"},
	}
}

func (k *keyed) call(r route, headers ...string) response {
	k.t.Helper()
	if r.body != "" {
		headers = append(headers, "Content-Type", "application/json")
	}
	return k.do(r.method, r.path, r.body, headers...)
}

// projection reads back what a client could change: alice's row.
func (k *keyed) projection() string {
	k.t.Helper()
	var state, addr string
	var seq int64
	err := k.Pool.QueryRow(k.t.Context(), `SELECT state, address::text, last_seq FROM orders WHERE order_id = $1`,
		k.aliceOrder).Scan(&state, &addr, &seq)
	if err != nil {
		k.t.Fatal(err)
	}
	return fmt.Sprintf("%s %s %d", state, addr, seq)
}

// Every route refuses a request without a key, with a bad key, with a key
// lacking the route's scope, and hides another client's order; nothing is
// published to NATS and the projection is untouched.
func TestEveryRouteRefusesIntruders(t *testing.T) {
	k := newKeyed(t, nil, nil)
	before := k.projection()

	type attempt struct {
		name    string
		headers []string
		status  int
		// challenge is the WWW-Authenticate error attribute ("" = none).
		challenge string
	}
	for _, r := range routes(k.aliceOrder) {
		wrongScope := k.reader
		if r.scope == "orders:read" {
			wrongScope = k.writer
		}
		attempts := []attempt{
			{"no key", nil, http.StatusUnauthorized, ""},
			{"bad key", []string{"Authorization", "Bearer ofk_not-a-key"}, http.StatusUnauthorized, `error="invalid_token"`},
			{"basic auth", []string{"Authorization", "Basic YWxpY2U6c2VjcmV0"}, http.StatusUnauthorized, `error="invalid_token"`},
			{"key digest as key", []string{"Authorization", "Bearer " + k.alice.digest()}, http.StatusUnauthorized, `error="invalid_token"`},
			{"wrong scope", wrongScope.bearer(), http.StatusForbidden, `error="insufficient_scope", scope="` + r.scope + `"`},
		}
		if r.path != "/orders" {
			attempts = append(attempts, attempt{"other client's order", k.bob.bearer(), http.StatusNotFound, ""})
		}
		for _, a := range attempts {
			t.Run(r.method+" "+strings.ReplaceAll(r.path, k.aliceOrder, "{alice}")+"/"+a.name, func(t *testing.T) {
				res := k.call(r, a.headers...)
				expectProblem(t, res, a.status, "")
				ch := res.Header.Get("WWW-Authenticate")
				switch {
				case a.status == http.StatusNotFound && ch != "":
					t.Fatalf("404 carries a challenge %q", ch)
				case a.status != http.StatusNotFound && !strings.HasPrefix(ch, `Bearer realm="orderflow"`):
					t.Fatalf("WWW-Authenticate %q", ch)
				case !strings.Contains(ch, a.challenge):
					t.Fatalf("WWW-Authenticate %q lacks %s", ch, a.challenge)
				}
				if bytes.Contains(res.body, []byte(k.aliceOrder)) && r.path == "/orders" {
					t.Fatalf("list shows alice's order to an intruder: %s", res.body)
				}
				if msgs := k.commandMsgs(); len(msgs) != 0 {
					t.Fatalf("%d commands published after a refused request", len(msgs))
				}
			})
		}
	}
	// bob's list is empty: alice's order is not in it.
	res := k.do("GET", "/orders", "", k.bob.bearer()...)
	if res.StatusCode != http.StatusOK || bytes.Contains(res.body, []byte(k.aliceOrder)) {
		t.Fatalf("bob's list: %d %s", res.StatusCode, res.body)
	}
	if after := k.projection(); after != before {
		t.Fatalf("projection changed: %s -> %s", before, after)
	}
}

// The owner gets through on every route, and what it publishes names it.
func TestOwnerGetsThrough(t *testing.T) {
	k := newKeyed(t, nil, nil)
	for _, r := range routes(k.aliceOrder) {
		res := k.call(r, k.alice.bearer()...)
		want := http.StatusOK
		if r.method == "POST" {
			want = http.StatusAccepted
		}
		if res.StatusCode != want {
			t.Fatalf("%s %s as alice: %d %s", r.method, r.path, res.StatusCode, res.body)
		}
		if r.path == "/orders" && !bytes.Contains(res.body, []byte(k.aliceOrder)) {
			t.Fatalf("alice's list lacks her order: %s", res.body)
		}
	}
	msgs := k.commandMsgs()
	if len(msgs) != 4 {
		t.Fatalf("%d commands published, want 4", len(msgs))
	}
	for _, m := range msgs {
		cmd, err := contracts.DecodeCommand(m.Subject(), m.Data())
		if err != nil || cmd.Owner != "alice" {
			t.Fatalf("command %s owner %q (err %v), want alice", m.Subject(), cmd.Owner, err)
		}
	}
	// A signal to an order the projection does not know needs the live
	// side to name its owner; with no bridge running that is 503, and
	// nothing is published.
	k.purgeCommands()
	res := k.do("POST", "/orders/"+k.unknownOrder+"/signals/cancel", "", k.bob.bearer()...)
	expectProblem(t, res, http.StatusServiceUnavailable, "")
	if msgs := k.commandMsgs(); len(msgs) != 0 {
		t.Fatalf("%d commands published for an unverified signal", len(msgs))
	}
	// A new order is bob's once he starts it.
	res = k.do("POST", "/orders/"+k.unknownOrder+"/start", `{"payment_id":"pay-bob"}`,
		append(k.bob.bearer(), "Content-Type", "application/json")...)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("bob starts a new order: %d %s", res.StatusCode, res.body)
	}
	k.expectOneCommand(contracts.CommandSubject(k.unknownOrder, contracts.CommandStart), mustCommandID(t, res))
}

func mustCommandID(t *testing.T, r response) string {
	t.Helper()
	var b struct {
		CommandID string `json:"command_id"`
	}
	r.json(t, &b)
	return b.CommandID
}

// Keys are reloaded without a restart: a new key works and a removed key
// stops working; a broken file keeps the previous keys.
func TestKeysFileReloads(t *testing.T) {
	var logs testenv.Buffer
	k := newKeyed(t, nil, slog.New(slog.NewJSONHandler(&logs, nil)))
	list := func(key apiKey) int { return k.do("GET", "/orders", "", key.bearer()...).StatusCode }
	carol := newKey("carol", "orders:read")
	if got := list(carol); got != http.StatusUnauthorized {
		t.Fatalf("carol before issue: %d", got)
	}
	// Rotate alice: new key in, old key out; add carol.
	alice2 := newKey("alice", allScopes)
	writeKeys(t, k.keysFile, alice2, carol)
	testenv.Eventually(t, 5*time.Second, func() (bool, string) { return list(carol) == http.StatusOK, "waiting for carol's key to be loaded" })
	if got := list(k.alice); got != http.StatusUnauthorized {
		t.Fatalf("alice's old key after rotation: %d", got)
	}
	if got := list(alice2); got != http.StatusOK {
		t.Fatalf("alice's new key: %d", got)
	}
	// A broken file is refused as a whole; the keys in force stay.
	dave := newKey("dave", "orders:read")
	writeKeysAppendBroken(t, k.keysFile, dave)
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		return strings.Contains(logs.String(), "credentials file not reloaded"), "waiting for the broken file to be refused"
	})
	if got := list(carol); got != http.StatusOK {
		t.Fatalf("carol after a broken file: %d", got)
	}
	if got := list(dave); got != http.StatusUnauthorized {
		t.Fatalf("dave from a broken file: %d", got)
	}
}

// writeKeysAppendBroken writes key followed by a line that does not parse.
func writeKeysAppendBroken(t *testing.T, path string, key apiKey) {
	t.Helper()
	if err := os.WriteFile(path, []byte(key.line()+"\nmallory orders:everything "+key.digest()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Rate limits count per client key: alice running out does not stop bob,
// who calls from the same address.
func TestRateLimitPerClientKey(t *testing.T) {
	k := newKeyed(t, func(c *api.Config) {
		c.RateLimitMax, c.RateLimitWindow = 3, time.Hour
	}, nil)
	for i := range 3 {
		if got := k.do("GET", "/orders", "", k.alice.bearer()...).StatusCode; got != http.StatusOK {
			t.Fatalf("alice request %d: %d", i+1, got)
		}
	}
	expectProblem(t, k.do("GET", "/orders", "", k.alice.bearer()...), http.StatusTooManyRequests, "")
	if got := k.do("GET", "/orders", "", k.bob.bearer()...).StatusCode; got != http.StatusOK {
		t.Fatalf("bob after alice ran out: %d", got)
	}
}

// No key, good or bad, ever reaches the logs (debug level included) or the
// broker; digests may appear, raw keys may not.
func TestSecretsAreNeverLogged(t *testing.T) {
	var logs testenv.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	k := newKeyed(t, nil, log)
	bad := "ofk_guessed-" + newKey("x", "").secret
	for _, r := range routes(k.aliceOrder) {
		k.call(r, k.alice.bearer()...)
		k.call(r, k.bob.bearer()...)
		k.call(r, "Authorization", "Bearer "+bad)
		k.call(r, "Authorization", bad)
	}
	// A reload and a broken reload log too.
	writeKeys(t, k.keysFile, k.alice, k.bob)
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		return strings.Contains(logs.String(), "credentials file reloaded"), "waiting for the reload"
	})
	writeKeysAppendBroken(t, k.keysFile, k.alice)
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		return strings.Contains(logs.String(), "credentials file not reloaded"), "waiting for the refused reload"
	})

	out := logs.String()
	if !strings.Contains(out, `"path":"/orders"`) {
		t.Fatalf("the capture holds no request logs; the test would prove nothing:\n%s", out)
	}
	var published bytes.Buffer
	for _, m := range k.commandMsgs() {
		published.Write(m.Data())
		for name, v := range m.Headers() {
			published.WriteString(name + strings.Join(v, ","))
		}
	}
	for _, secret := range []string{k.alice.secret, k.bob.secret, bad, strings.TrimPrefix(bad, "ofk_")} {
		if strings.Contains(out, secret) {
			t.Errorf("a key appears in the logs")
		}
		if strings.Contains(published.String(), secret) {
			t.Errorf("a key appears in a published command")
		}
	}
}

// Without keys the API is open and says so loudly; API_ALLOW_OPEN=false
// refuses to start that way.
func TestOpenModeWarnsAndCanBeForbidden(t *testing.T) {
	var logs testenv.Buffer
	e := newEnvLog(t, nil, slog.New(slog.NewJSONHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "AUTHENTICATION IS OFF") {
		t.Fatalf("no warning at start: %s", logs.String())
	}
	if got := e.do("GET", "/orders", "").StatusCode; got != http.StatusOK {
		t.Fatalf("open API list: %d", got)
	}
	cfg := defaultConfig(t)
	cfg.AllowOpen = false
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "API_ALLOW_OPEN") {
		t.Fatalf("validate with API_ALLOW_OPEN=false and no keys: %v", err)
	}
}

// The Temporal UI's codec endpoint decodes only for the codec:decode scope.
func TestCodecEndpointNeedsItsScope(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	codecFile := filepath.Join(t.TempDir(), "codec-keys")
	if err := os.WriteFile(codecFile, []byte("k1 "+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	operator := newKey("operator", "codec:decode")
	k := newKeyed(t, func(c *api.Config) { c.CodecKeysFile = codecFile }, nil)
	writeKeys(t, k.keysFile, k.alice, operator)
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		return k.do("POST", "/codec/decode", "{}", operator.bearer()...).StatusCode != http.StatusUnauthorized, "waiting for the operator key"
	})

	codec, err := temporalx.LoadCodec(codecFile)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := converter.GetDefaultDataConverter().ToPayload("742 Evergreen Terrace")
	sealed, err := codec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	post := func(headers ...string) response {
		return k.do("POST", "/codec/decode", string(body), append(headers, "Content-Type", "application/json")...)
	}
	expectProblem(t, post(), http.StatusUnauthorized, "")
	expectProblem(t, post(k.alice.bearer()...), http.StatusForbidden, "")
	res := post(operator.bearer()...)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(res.body), base64.StdEncoding.EncodeToString(plain.Data)) {
		t.Fatalf("operator decode: %d %s", res.StatusCode, res.body)
	}
	// Encoding is not offered: it would make the endpoint a sealing oracle.
	if got := k.do("POST", "/codec/encode", string(body), operator.bearer()...).StatusCode; got != http.StatusNotFound {
		t.Fatalf("/codec/encode: %d", got)
	}
}

// The board's live stream is a read route: no key 401, wrong scope 403,
// and a client sees only its own orders' events.
func TestBoardEventsAreFilteredByOwner(t *testing.T) {
	k := newKeyed(t, nil, nil)
	expectProblem(t, k.do("GET", "/board/events", ""), http.StatusUnauthorized, "")
	expectProblem(t, k.do("GET", "/board/events", "", "Authorization", "Bearer nope"), http.StatusUnauthorized, "")
	expectProblem(t, k.do("GET", "/board/events", "", k.writer.bearer()...), http.StatusForbidden, "")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+k.listen()+"/board/events", nil)
	req.Header.Set("Authorization", "Bearer "+k.bob.secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("bob's stream: %d", res.StatusCode)
	}
	rd := bufio.NewReader(res.Body)
	nextData := func() string {
		t.Helper()
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("read stream: %v", err)
			}
			if strings.HasPrefix(line, "data: ") {
				return line[6:]
			}
		}
	}
	if d := nextData(); strings.TrimSpace(d) != "{}" {
		t.Fatalf("first data %q, want the ready event", d)
	}
	// alice's event first, then bob's: events arrive in stream order, so
	// bob seeing his own first proves alice's was withheld.
	at := time.Now().UTC()
	for _, o := range []struct{ order, owner string }{{k.aliceOrder, "alice"}, {"bobs-order", "bob"}} {
		st := snapshot(o.order, domain.StatePaid, at)
		st.Owner = o.owner
		msg, err := natsx.EventMsg(contracts.Event{ID: contracts.EventID(o.order, 2), SchemaVersion: contracts.EventSchemaVersion,
			Type: contracts.EventApproved, OrderID: o.order, Seq: 2, Time: at, WorkflowID: st.WorkflowID, Order: st})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.JS.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	if d := nextData(); !strings.Contains(d, `"order_id":"bobs-order"`) {
		t.Fatalf("bob's stream shows %s, want only his own order", d)
	}
}
