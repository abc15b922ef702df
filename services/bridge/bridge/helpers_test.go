package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// stack is one test's real infrastructure (testenv.Env: its own NATS
// server, a database for payments), a Temporal client, the order workers on
// a private task queue and the bridge.
type stack struct {
	*testenv.Env
	t  *testing.T
	tc client.Client
	// stopWorkers ends the order and shipping workers.
	stopWorkers func()
	cfg         bridge.Config
	run         *testenv.Running     // the bridge; nil while stopped
	reg         *prometheus.Registry // the bridge's metrics
}

// newStack starts NATS, dials Temporal at addr, runs the workers and the
// bridge. tweak adjusts the bridge configuration before it starts.
func newStack(t *testing.T, addr string, tweak func(*bridge.Config)) *stack {
	t.Helper()
	s := newIdleStack(t, addr, tweak)
	s.startBridge()
	return s
}

// newIdleStack is newStack without the bridge: the test starts it.
func newIdleStack(t *testing.T, addr string, tweak func(*bridge.Config)) *stack {
	t.Helper()
	infra := testenv.New(t)
	tc := testenv.TemporalClient(t, addr, testenv.Logger(t))
	cfg, err := config.Load[bridge.Config]()
	if err != nil {
		t.Fatal(err)
	}
	cfg.NATS.URL = infra.NATS.URL
	cfg.Temporal.Address = addr
	cfg.OrdersTaskQueue = testenv.UniqueName("orders")
	cfg.ShippingTaskQueue = testenv.UniqueName("shipping")
	cfg.NotFoundGrace = 500 * time.Millisecond
	if tweak != nil {
		tweak(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := &stack{Env: infra, t: t, tc: tc, cfg: cfg, reg: prometheus.NewRegistry()}
	s.stopWorkers = startWorkers(t, tc, cfg, infra.JS, infra.Pool)
	return s
}

// startBridge runs bridge.Run in the background until stopBridge.
func (s *stack) startBridge() {
	reg := prometheus.NewRegistry() // a restarted bridge registers afresh
	s.reg = reg
	s.run = testenv.Go(s.t, func(ctx context.Context) error {
		return bridge.Run(ctx, s.cfg, bridge.Deps{NATS: s.NC, Temporal: s.tc}, testenv.Logger(s.t), bridge.WithMetrics(reg))
	})
	s.t.Cleanup(s.stopBridge)
}

// metric sums the bridge's counter name over the series whose labels
// include labels.
func (s *stack) metric(name string, labels map[string]string) float64 {
	s.t.Helper()
	families, err := s.reg.Gather()
	if err != nil {
		s.t.Fatalf("gather metrics: %v", err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// stopBridge cancels Run and checks it returns cleanly and promptly.
func (s *stack) stopBridge() {
	if s.run == nil {
		return
	}
	err := s.run.Stop(20 * time.Second)
	s.run = nil
	if err != nil {
		s.t.Errorf("bridge.Run: %v", err)
	}
}

// publish stores a command in ORDER_COMMANDS and reports whether the broker
// dropped it as a duplicate.
func (s *stack) publish(cmd contracts.Command) (duplicate bool) {
	s.t.Helper()
	m, err := natsx.CommandMsg(cmd)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.publishMsg(m)
}

func (s *stack) publishMsg(m *nats.Msg) (duplicate bool) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := s.JS.PublishMsg(ctx, m)
	if err != nil {
		s.t.Fatalf("publish %s: %v", m.Subject, err)
	}
	return ack.Duplicate
}

// consumerInfo is the bridge's durable consumer as the broker sees it.
func (s *stack) consumerInfo() (*jetstream.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := s.JS.Consumer(ctx, contracts.StreamCommands, s.cfg.Durable)
	if err != nil {
		return nil, err
	}
	return cons.Info(ctx)
}

// waitConsumer polls the consumer until ok holds.
func (s *stack) waitConsumer(what string, timeout time.Duration, ok func(*jetstream.ConsumerInfo) bool) *jetstream.ConsumerInfo {
	s.t.Helper()
	var ci *jetstream.ConsumerInfo
	testenv.Eventually(s.t, timeout, func() (bool, string) {
		var err error
		ci, err = s.consumerInfo()
		return err == nil && ok(ci), fmt.Sprintf("consumer never %s (info %+v, err %v)", what, ci, err)
	})
	return ci
}

// waitSettled waits until the bridge has acknowledged (or terminated) every
// command stored so far.
func (s *stack) waitSettled(timeout time.Duration) {
	s.t.Helper()
	s.waitConsumer("settled every command", timeout, func(ci *jetstream.ConsumerInfo) bool {
		return ci.NumPending == 0 && ci.NumAckPending == 0 && ci.Delivered.Stream > 0
	})
}

// results reads every CommandResult stored for subject filter.
func (s *stack) results(filter string) []contracts.CommandResult {
	s.t.Helper()
	var out []contracts.CommandResult
	for _, m := range testenv.ReadStream(s.t, s.JS, contracts.StreamResults, filter) {
		var r contracts.CommandResult
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			s.t.Fatalf("decode %s message: %v", contracts.StreamResults, err)
		}
		out = append(out, r)
	}
	return out
}

// deadLetters reads every message in the command dead-letter subject.
func (s *stack) deadLetters() []jetstream.Msg {
	s.t.Helper()
	return testenv.ReadStream(s.t, s.JS, contracts.StreamDLQ, contracts.DLQCommands)
}

// waitResults polls until n results exist under filter.
func (s *stack) waitResults(filter string, n int, timeout time.Duration) []contracts.CommandResult {
	s.t.Helper()
	var rs []contracts.CommandResult
	testenv.Eventually(s.t, timeout, func() (bool, string) {
		rs = s.results(filter)
		return len(rs) >= n, fmt.Sprintf("want %d results on %s, have %d: %+v", n, filter, len(rs), rs)
	})
	return rs
}

// status asks the bridge for an order's live status over request/reply.
func (s *stack) status(orderID string) contracts.StatusReply {
	s.t.Helper()
	m, err := s.NC.Request(contracts.StatusSubject(orderID), nil, 10*time.Second)
	if err != nil {
		s.t.Fatalf("status request for %s: %v", orderID, err)
	}
	var r contracts.StatusReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		s.t.Fatalf("status reply: %v", err)
	}
	return r
}

// waitState polls the live status until the order reaches want.
func (s *stack) waitState(orderID string, want domain.OrderState, timeout time.Duration) contracts.StatusReply {
	s.t.Helper()
	var r contracts.StatusReply
	testenv.Eventually(s.t, timeout, func() (bool, string) {
		r = s.status(orderID)
		return r.Status != nil && r.Status.State == want, fmt.Sprintf("order %s did not reach %s: %+v", orderID, want, r)
	})
	return r
}

// workflowClosed waits for the order's workflow to close and returns the
// workflow's error (nil when it completed).
func (s *stack) workflowClosed(orderID string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.tc.GetWorkflow(ctx, contracts.OrderWorkflowID(orderID), "").Get(ctx, nil)
	if errors.Is(err, context.DeadlineExceeded) {
		s.t.Fatalf("workflow of %s still running after %s", orderID, timeout)
	}
	return err
}

// startCmd is a start command with a fresh command ID.
func startCmd(orderID, paymentID string, manualReview bool) contracts.Command {
	return contracts.Command{
		CommandID: testenv.UniqueName("cmd"), OrderID: orderID, Kind: contracts.CommandStart,
		IssuedAt: time.Now().UTC(), PaymentID: paymentID, ManualReview: manualReview,
	}
}

func signalCmd(orderID string, kind contracts.CommandKind) contracts.Command {
	return contracts.Command{CommandID: testenv.UniqueName("cmd"), OrderID: orderID, Kind: kind, IssuedAt: time.Now().UTC()}
}

// byCommand indexes results by command ID, failing on a command settled twice.
func byCommand(t *testing.T, rs []contracts.CommandResult) map[string]contracts.CommandResult {
	t.Helper()
	out := make(map[string]contracts.CommandResult, len(rs))
	for _, r := range rs {
		if prev, dup := out[r.CommandID]; dup {
			t.Errorf("command %s has two results: %+v and %+v", r.CommandID, prev, r)
		}
		out[r.CommandID] = r
	}
	return out
}

// countRuns counts the order's workflow runs in Temporal's visibility store,
// waiting out its indexing lag.
func countRuns(t *testing.T, s *stack, orderID string) int64 {
	t.Helper()
	var n int64
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := s.tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s'", contracts.OrderWorkflowID(orderID)),
		})
		cancel()
		n = resp.GetCount()
		return err == nil && n > 0, fmt.Sprintf("count runs of %s: %v (count %d)", orderID, err, n)
	})
	return n
}

// assertOneCharge checks the payments table holds exactly one charge for
// the order.
func assertOneCharge(t *testing.T, s *stack, orderID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var rows int
	var status string
	err := s.Pool.QueryRow(ctx, `SELECT count(*), min(status) FROM payments WHERE order_id = $1`, orderID).Scan(&rows, &status)
	if err != nil || rows != 1 || status != "charged" {
		t.Fatalf("payments of %s: %d rows, status %q, err %v (want one charged)", orderID, rows, status, err)
	}
}
