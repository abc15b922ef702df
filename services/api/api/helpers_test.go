package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

// env is one test's API mounted in process on its own embedded NATS and
// fresh PostgreSQL database.
type env struct {
	*testenv.Env
	t   *testing.T
	app *fiber.App
	cfg api.Config
	// overNetwork sends requests over a real TCP listener instead of
	// app.Test, for limits that the in-memory connection cannot show.
	overNetwork bool
	addr        string
}

// listen serves the app on a loopback port once and returns its address.
func (e *env) listen() string {
	if e.addr != "" {
		return e.addr
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatalf("listen: %v", err)
	}
	go func() { _ = e.app.Listener(ln) }()
	e.t.Cleanup(func() { _ = e.app.ShutdownWithTimeout(5 * time.Second) })
	e.addr = ln.Addr().String()
	return e.addr
}

// defaultConfig is the configuration the binary gets with no variables
// set, which also proves the defaults pass validation.
func defaultConfig(t *testing.T) api.Config {
	t.Helper()
	for _, k := range []string{"HTTP_ADDR", "HTTP_BODY_LIMIT", "RATE_LIMIT_MAX", "RATE_LIMIT_WINDOW", "PREFER_WAIT_MAX",
		"STATUS_TIMEOUT", "HTTP_REQUEST_TIMEOUT", "HTTP_WRITE_TIMEOUT", "HTTP_PROXY_HEADER", "HTTP_TRUSTED_PROXIES", "OPS_ADDR",
		"API_KEYS_FILE", "JWT_JWKS_FILE", "JWT_JWKS_URL", "TEMPORAL_CODEC_KEYS_FILE", "API_ALLOW_OPEN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	cfg, err := config.Load[api.Config]()
	if err != nil {
		t.Fatalf("load default config: %v", err)
	}
	return cfg
}

func newEnv(t *testing.T, mutate func(*api.Config)) *env {
	t.Helper()
	return newEnvLog(t, mutate, testenv.Logger(t))
}

// newEnvLog is newEnv with the app logging to log.
func newEnvLog(t *testing.T, mutate func(*api.Config), log *slog.Logger) *env {
	t.Helper()
	infra := testenv.New(t)
	cfg := defaultConfig(t)
	cfg.NATS.URL, cfg.Postgres.URL = infra.NATS.URL, infra.DBURL
	cfg.RateLimitMax = 0
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	app, err := api.New(cfg, api.Deps{NATS: infra.NC, DB: infra.Pool, Log: log})
	if err != nil {
		t.Fatalf("new app: %v", err)
	}
	return &env{Env: infra, t: t, app: app, cfg: cfg}
}

// response is a finished HTTP exchange with its body read.
type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends one request through the app exactly as the network would,
// and checks the answer against the OpenAPI description.
func (e *env) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	var (
		res *http.Response
		err error
	)
	if e.overNetwork {
		req.RequestURI = ""
		req.URL.Scheme, req.URL.Host = "http", e.listen()
		res, err = http.DefaultClient.Do(req)
	} else {
		res, err = e.app.Test(req, 30_000)
	}
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	validateAgainstSpec(e.t, req, res, b)
	return response{Response: res, body: b}
}

// problem is the decoded problem+json body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Field  string `json:"field"`
	Errors []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
	Result *contracts.CommandResult `json:"result"`
	Checks map[string]string        `json:"checks"`
}

// expectProblem asserts an RFC 9457 answer with status and, when field is
// not empty, naming that field.
func expectProblem(t *testing.T, r response, status int, field string) problem {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content-type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p problem
	r.json(t, &p)
	if p.Status != status || p.Type == "" || p.Title == "" {
		t.Fatalf("problem %+v lacks type/title/status %d", p, status)
	}
	if field != "" {
		if p.Field != field || len(p.Errors) == 0 || p.Errors[0].Field != field {
			t.Fatalf("problem names field %q (errors %+v), want %q; body %s", p.Field, p.Errors, field, r.body)
		}
	}
	return p
}

// commandMsgs returns every message stored in ORDER_COMMANDS.
func (e *env) commandMsgs() []jetstream.Msg {
	e.t.Helper()
	return testenv.ReadStream(e.t, e.JS, contracts.StreamCommands)
}

// expectOneCommand asserts exactly one stored command and returns it
// decoded with the bridge's own decoder.
func (e *env) expectOneCommand(subject, commandID string) contracts.Command {
	e.t.Helper()
	msgs := e.commandMsgs()
	if len(msgs) != 1 {
		e.t.Fatalf("%d messages in %s, want 1", len(msgs), contracts.StreamCommands)
	}
	m := msgs[0]
	if m.Subject() != subject {
		e.t.Fatalf("subject %q, want %q", m.Subject(), subject)
	}
	if got := m.Headers().Get(contracts.HeaderMsgID); got != commandID {
		e.t.Fatalf("Nats-Msg-Id %q, want %q", got, commandID)
	}
	cmd, err := contracts.DecodeCommand(m.Subject(), m.Data())
	if err != nil {
		e.t.Fatalf("stored command does not decode: %v (%s)", err, m.Data())
	}
	if cmd.CommandID != commandID {
		e.t.Fatalf("body command_id %q, want %q", cmd.CommandID, commandID)
	}
	return cmd
}

func (e *env) purgeCommands() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := e.JS.Stream(ctx, contracts.StreamCommands)
	if err != nil {
		e.t.Fatalf("stream: %v", err)
	}
	if err := s.Purge(ctx); err != nil {
		e.t.Fatalf("purge: %v", err)
	}
}

// insertOrder writes a projection row the way the projector does, with
// events 1..seq.
func (e *env) insertOrder(st contracts.OrderStatus, seq int64, lastType contracts.EventType) {
	e.t.Helper()
	ctx := context.Background()
	snap, _ := json.Marshal(st)
	items, _ := json.Marshal(st.Items)
	addr, _ := json.Marshal(st.Address)
	tracking := ""
	if st.Shipping != nil {
		tracking = st.Shipping.TrackingNumber
	}
	_, err := e.Pool.Exec(ctx, `
		INSERT INTO orders (order_id, workflow_id, payment_id, state, step, terminal, amount_cents, items, address,
		  manual_review, payment_status, tracking_number, failure_reason, snapshot, last_seq, last_event_type,
		  accepted_at, updated_at, completed_at, owner)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)`,
		st.OrderID, st.WorkflowID, st.Payment.PaymentID, st.State, st.Step, st.State.Terminal(), st.Payment.AmountCents,
		items, addr, st.ManualReview, st.Payment.Status, tracking, st.FailureReason, snap, seq, lastType,
		st.AcceptedAt, st.UpdatedAt, st.CompletedAt, st.Owner)
	if err != nil {
		e.t.Fatalf("insert order: %v", err)
	}
}

func (e *env) insertEvent(orderID string, seq int64, typ contracts.EventType, at time.Time, data string, st contracts.OrderStatus) {
	e.t.Helper()
	snap, _ := json.Marshal(st)
	_, err := e.Pool.Exec(context.Background(), `
		INSERT INTO events (event_id, order_id, seq, type, occurred_at, data, snapshot) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		contracts.EventID(orderID, seq), orderID, seq, typ, at, data, snap)
	if err != nil {
		e.t.Fatalf("insert event: %v", err)
	}
}

// snapshot is a plausible order status for projection rows.
func snapshot(orderID string, state domain.OrderState, accepted time.Time) contracts.OrderStatus {
	items := []domain.Item{{SKU: "SKU-1", Quantity: 2, PriceCents: 500}}
	return contracts.OrderStatus{
		OrderID: orderID, WorkflowID: contracts.OrderWorkflowID(orderID), State: state,
		Step:     domain.StepChargePayment,
		Attempts: map[domain.Step]int{domain.StepReceive: 1, domain.StepChargePayment: 3},
		RecentErrors: []contracts.StepError{{Step: domain.StepChargePayment, Attempt: 2,
			Error: "injected failure", At: accepted.Add(time.Second)}},
		Items: items, Address: domain.DefaultAddress(),
		Payment:    contracts.PaymentInfo{PaymentID: "pay-" + orderID, AmountCents: domain.TotalCents(items), Status: "charged"},
		AcceptedAt: accepted, UpdatedAt: accepted.Add(2 * time.Second),
	}
}
