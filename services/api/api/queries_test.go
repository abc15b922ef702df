package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// statusView is the body of GET /orders/{id}/status.
type statusView struct {
	Source         string                      `json:"source"`
	OrderID        string                      `json:"order_id"`
	WorkflowID     string                      `json:"workflow_id"`
	WorkflowStatus string                      `json:"workflow_status"`
	Status         contracts.OrderStatus       `json:"status"`
	Pending        []contracts.PendingActivity `json:"pending_activities"`
	ProjectedSeq   int64                       `json:"projected_seq"`
	LiveError      string                      `json:"live_error"`
}

// statusResponder answers live status requests like the bridge does.
func statusResponder(t *testing.T, nc *nats.Conn, answer func(orderID string) (contracts.StatusReply, time.Duration)) {
	t.Helper()
	sub, err := nc.QueueSubscribe(contracts.StatusWildcard, "bridge", func(m *nats.Msg) {
		orderID := m.Subject[len(contracts.StatusRoot)+1:]
		reply, delay := answer(orderID)
		time.Sleep(delay)
		b, _ := json.Marshal(reply)
		_ = m.Respond(b)
	})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
}

// TestStatusSources: the live answer when the bridge knows the order, the
// projection when it does not or does not answer in time, 404 when nobody
// knows the order; the body always says which source answered.
func TestStatusSources(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.StatusTimeout = 300 * time.Millisecond })
	accepted := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	// No bridge at all (no responders): projection or 404.
	expectProblem(t, e.do("GET", "/orders/proj-1/status", ""), http.StatusNotFound, "")
	snap := snapshot("proj-1", domain.StatePaid, accepted)
	e.insertOrder(snap, 4, contracts.EventPaymentCharged)
	var v statusView
	r := e.do("GET", "/orders/proj-1/status", "")
	r.json(t, &v)
	if r.StatusCode != 200 || v.Source != "projection" || v.Status.State != domain.StatePaid || v.ProjectedSeq != 4 ||
		v.Status.Attempts[domain.StepChargePayment] != 3 || v.LiveError == "" || v.WorkflowID != snap.WorkflowID {
		t.Fatalf("projection fallback: %d %s", r.StatusCode, r.body)
	}

	live := snapshot("live-1", domain.StateShipping, accepted)
	live.Step = domain.StepDispatchCarrier
	started := accepted.Add(3 * time.Second)
	statusResponder(t, e.NC, func(id string) (contracts.StatusReply, time.Duration) {
		switch id {
		case "live-1":
			return contracts.StatusReply{Source: "temporal", WorkflowID: live.WorkflowID, RunID: "run-1",
				WorkflowStatus: "RUNNING", Status: &live, Pending: []contracts.PendingActivity{{
					Type: "DispatchCarrier", Attempt: 4, State: "PENDING_ACTIVITY_STATE_STARTED",
					LastFailure: "injected hang", LastStarted: &started}}}, 0
		case "described-1":
			return contracts.StatusReply{Source: "temporal", WorkflowID: live.WorkflowID, RunID: "run-2",
				WorkflowStatus: "COMPLETED", Error: "query status: no worker"}, 0
		case "slow-1":
			return contracts.StatusReply{Status: &live}, time.Second
		}
		return contracts.StatusReply{Source: "temporal", NotFound: true, Error: "workflow not found"}, 0
	})

	r = e.do("GET", "/orders/live-1/status", "")
	v = statusView{}
	r.json(t, &v)
	if r.StatusCode != 200 || v.Source != "temporal" || v.WorkflowStatus != "RUNNING" || v.Status.Step != domain.StepDispatchCarrier ||
		len(v.Pending) != 1 || v.Pending[0].Attempt != 4 || v.Pending[0].LastFailure != "injected hang" {
		t.Fatalf("live status: %d %s", r.StatusCode, r.body)
	}

	// The bridge does not know proj-1 (history gone): the projection answers.
	v = statusView{}
	e.do("GET", "/orders/proj-1/status", "").json(t, &v)
	if v.Source != "projection" || v.LiveError != "workflow not found" {
		t.Fatalf("not-found fallback: %+v", v)
	}

	// Temporal described the run but the query failed: the projection
	// answers, keeping the live run state.
	e.insertOrder(snapshot("described-1", domain.StateShipped, accepted), 9, contracts.EventShipped)
	v = statusView{}
	e.do("GET", "/orders/described-1/status", "").json(t, &v)
	if v.Source != "projection" || v.WorkflowStatus != "COMPLETED" || v.LiveError != "query status: no worker" ||
		v.Status.State != domain.StateShipped || v.ProjectedSeq != 9 {
		t.Fatalf("described-only fallback: %+v", v)
	}

	// A slow bridge: the projection answers within the status timeout.
	e.insertOrder(snapshot("slow-1", domain.StateApproved, accepted), 3, contracts.EventApproved)
	start := time.Now()
	v = statusView{}
	e.do("GET", "/orders/slow-1/status", "").json(t, &v)
	if v.Source != "projection" || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("slow bridge: source %q after %s", v.Source, time.Since(start))
	}

	// Neither knows it.
	expectProblem(t, e.do("GET", "/orders/ghost/status", ""), http.StatusNotFound, "")
	expectProblem(t, e.do("GET", "/orders/bad.id/status", ""), http.StatusBadRequest, "order_id")
}

// TestReadOrderAndEvents reads rows the projector would have written.
func TestReadOrderAndEvents(t *testing.T) {
	e := newEnv(t, nil)
	accepted := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	done := accepted.Add(9 * time.Second)
	st := snapshot("read-1", domain.StateShipped, accepted)
	st.Step = domain.StepMarkShipped
	st.Shipping = &contracts.ShippingInfo{Attempt: 1, WorkflowID: contracts.ShippingWorkflowID("read-1", 1),
		TrackingNumber: "TRK-1", Carrier: "acme", DispatchedAt: &done}
	st.Payment.ChargedAt = &accepted
	st.CompletedAt = &done
	e.insertOrder(st, 3, contracts.EventShipped)
	e.insertEvent("read-1", 2, contracts.EventPaymentCharged, accepted.Add(time.Second), `{"amount_cents":1000}`, st)
	e.insertEvent("read-1", 1, contracts.EventReceived, accepted, `{}`, st)
	e.insertEvent("read-1", 3, contracts.EventShipped, done, `{"tracking_number":"TRK-1"}`, st)

	var o struct {
		OrderID  string                  `json:"order_id"`
		State    domain.OrderState       `json:"state"`
		Step     domain.Step             `json:"step"`
		Terminal bool                    `json:"terminal"`
		Items    []domain.Item           `json:"items"`
		Address  domain.Address          `json:"address"`
		Payment  map[string]any          `json:"payment"`
		Shipping *contracts.ShippingInfo `json:"shipping"`
		LastSeq  int64                   `json:"last_seq"`
		Accepted time.Time               `json:"accepted_at"`
		Complete *time.Time              `json:"completed_at"`
	}
	r := e.do("GET", "/orders/read-1", "")
	r.json(t, &o)
	if r.StatusCode != 200 || o.State != domain.StateShipped || !o.Terminal || o.Step != domain.StepMarkShipped ||
		len(o.Items) != 1 || o.Address != domain.DefaultAddress() || o.Payment["payment_id"] != "pay-read-1" ||
		o.Payment["status"] != "charged" || o.Payment["amount_cents"] != float64(1000) || o.Payment["charged_at"] == nil ||
		o.Shipping == nil || o.Shipping.TrackingNumber != "TRK-1" || o.LastSeq != 3 || !o.Accepted.Equal(accepted) ||
		o.Complete == nil || !o.Complete.Equal(done) {
		t.Fatalf("order: %d %s", r.StatusCode, r.body)
	}

	var evs struct {
		OrderID string `json:"order_id"`
		Events  []struct {
			EventID string              `json:"event_id"`
			Seq     int64               `json:"seq"`
			Type    contracts.EventType `json:"type"`
			State   string              `json:"state"`
			Data    map[string]any      `json:"data"`
		} `json:"events"`
	}
	r = e.do("GET", "/orders/read-1/events", "")
	r.json(t, &evs)
	if r.StatusCode != 200 || len(evs.Events) != 3 {
		t.Fatalf("events: %d %s", r.StatusCode, r.body)
	}
	for i, ev := range evs.Events {
		if ev.Seq != int64(i+1) || ev.EventID != contracts.EventID("read-1", ev.Seq) || ev.State != "shipped" {
			t.Fatalf("event %d out of order or wrong: %+v", i, ev)
		}
	}
	if evs.Events[2].Type != contracts.EventShipped || evs.Events[2].Data["tracking_number"] != "TRK-1" {
		t.Fatalf("last event %+v", evs.Events[2])
	}

	// An order row without events yet has an empty log, not a 404.
	e.insertOrder(snapshot("read-2", domain.StateReceived, accepted), 1, contracts.EventReceived)
	r = e.do("GET", "/orders/read-2/events", "")
	r.json(t, &evs)
	if r.StatusCode != 200 || evs.Events == nil || len(evs.Events) != 0 {
		t.Fatalf("empty log: %d %s", r.StatusCode, r.body)
	}

	expectProblem(t, e.do("GET", "/orders/missing", ""), http.StatusNotFound, "")
	expectProblem(t, e.do("GET", "/orders/missing/events", ""), http.StatusNotFound, "")
	expectProblem(t, e.do("GET", "/orders/a.b", ""), http.StatusBadRequest, "order_id")
	expectProblem(t, e.do("GET", "/orders/a.b/events", ""), http.StatusBadRequest, "order_id")
}

// TestListKeysetPagination walks every page with the returned cursors,
// with and without a status filter, including orders that share an
// accepted_at (the order ID breaks the tie).
func TestListKeysetPagination(t *testing.T) {
	e := newEnv(t, nil)
	base := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	type row struct {
		id    string
		state domain.OrderState
		at    time.Time
	}
	rows := []row{
		{"l-a", domain.StateShipped, base},
		{"l-b", domain.StateShipped, base.Add(time.Second)},
		{"l-c", domain.StateCancelled, base.Add(2 * time.Second)},
		{"l-d", domain.StateShipped, base.Add(3 * time.Second)},
		{"l-e", domain.StateShipped, base.Add(3 * time.Second)},
		{"l-f", domain.StatePaid, base.Add(4*time.Second + 250*time.Microsecond)},
		{"l-g", domain.StateShipped, base.Add(5 * time.Second)},
	}
	for _, r := range rows {
		e.insertOrder(snapshot(r.id, r.state, r.at), 2, contracts.EventValidated)
	}

	walk := func(query url.Values) []string {
		t.Helper()
		var ids []string
		next := "/orders?" + query.Encode()
		for pages := 0; next != ""; pages++ {
			if pages > 10 {
				t.Fatalf("pagination does not end")
			}
			var body struct {
				Orders []struct {
					OrderID string            `json:"order_id"`
					State   domain.OrderState `json:"state"`
				} `json:"orders"`
				Limit      int    `json:"limit"`
				NextCursor string `json:"next_cursor"`
				NextURL    string `json:"next_url"`
			}
			r := e.do("GET", next, "")
			r.json(t, &body)
			if r.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", next, r.StatusCode, r.body)
			}
			for _, o := range body.Orders {
				if s := query.Get("status"); s != "" && string(o.State) != s {
					t.Fatalf("filter %s returned %s in state %s", s, o.OrderID, o.State)
				}
				ids = append(ids, o.OrderID)
			}
			if strings.Contains(string(r.body), `\u0026`) {
				t.Fatalf("next_url is HTML-escaped: %s", r.body)
			}
			next = body.NextURL
			if (body.NextCursor == "") != (next == "") {
				t.Fatalf("next_cursor %q vs next_url %q", body.NextCursor, next)
			}
		}
		return ids
	}
	eq := func(got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	eq(walk(url.Values{"limit": {"2"}}), "l-g", "l-f", "l-e", "l-d", "l-c", "l-b", "l-a")
	eq(walk(url.Values{"limit": {"1"}, "status": {"shipped"}}), "l-g", "l-e", "l-d", "l-b", "l-a")
	eq(walk(url.Values{"status": {"cancelled"}}), "l-c")
	eq(walk(url.Values{"status": {"failed"}}))
	eq(walk(url.Values{}), "l-g", "l-f", "l-e", "l-d", "l-c", "l-b", "l-a")

	for _, bad := range []struct{ query, field string }{
		{"status=lost", "status"}, {"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=ten", "limit"},
		{"cursor=not-a-cursor", "cursor"}, {"cursor=e30", "cursor"},
	} {
		expectProblem(t, e.do("GET", "/orders?"+bad.query, ""), http.StatusBadRequest, bad.field)
	}
}

// TestRateLimitPerClient answers 429 problem+json with Retry-After once a
// client exceeds its budget; health probes are not limited.
func TestRateLimitPerClient(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.RateLimitMax, c.RateLimitWindow = 3, time.Minute })
	for i := 0; i < 3; i++ {
		if r := e.do("GET", "/orders?limit=1", ""); r.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	r := e.do("POST", "/orders/rl-1/start", `{"payment_id":"p"}`, "Content-Type", "application/json")
	expectProblem(t, r, http.StatusTooManyRequests, "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After")
	}
	if n := len(e.commandMsgs()); n != 0 {
		t.Fatalf("rate-limited POST published %d commands", n)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.do("GET", p, ""); r.StatusCode != 200 {
			t.Fatalf("%s limited: %d", p, r.StatusCode)
		}
	}
}

// TestRateLimitKeysOnClientBehindTrustedProxy: each client behind a
// trusted proxy has its own budget.
func TestRateLimitKeysOnClientBehindTrustedProxy(t *testing.T) {
	e := newEnv(t, func(c *api.Config) {
		c.RateLimitMax, c.RateLimitWindow = 2, time.Minute
		// app.Test connections come from 0.0.0.0, which plays the proxy.
		c.ProxyHeader, c.TrustedProxies = "X-Forwarded-For", []string{"0.0.0.0"}
	})
	for i := 0; i < 2; i++ {
		if r := e.do("GET", "/orders", "", "X-Forwarded-For", "203.0.113.7"); r.StatusCode != 200 {
			t.Fatalf("client A request %d: %d", i, r.StatusCode)
		}
	}
	expectProblem(t, e.do("GET", "/orders", "", "X-Forwarded-For", "203.0.113.7"), http.StatusTooManyRequests, "")
	if r := e.do("GET", "/orders", "", "X-Forwarded-For", "198.51.100.9"); r.StatusCode != 200 {
		t.Fatalf("client B limited by client A's budget: %d %s", r.StatusCode, r.body)
	}
}

// TestHealthAndReadiness with every dependency up.
func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t, nil)
	var h struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	r := e.do("GET", "/healthz", "")
	r.json(t, &h)
	if r.StatusCode != 200 || h.Status != "ok" {
		t.Fatalf("healthz: %d %s", r.StatusCode, r.body)
	}
	r = e.do("GET", "/readyz", "")
	r.json(t, &h)
	if r.StatusCode != 200 || h.Status != "ready" || h.Checks["nats"] != "ok" || h.Checks["postgres"] != "ok" {
		t.Fatalf("readyz: %d %s", r.StatusCode, r.body)
	}
	r = e.do("GET", "/openapi.yaml", "")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/yaml" || len(r.body) < 1000 {
		t.Fatalf("openapi.yaml: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
}
