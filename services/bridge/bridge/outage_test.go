package bridge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/services/bridge/internal/ports"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

// Temporal goes away while commands arrive. The bridge holds them in place
// (kept alive past AckWait, so never redelivered out of order), hands them
// back when it is stopped, and a new bridge applies each exactly once when
// Temporal returns.
func TestCommandsWaitWhileTemporalIsDown(t *testing.T) {
	srv := testenv.StartTemporal(t)
	s := newStack(t, srv.Address, func(c *bridge.Config) { c.AckWait = 3 * time.Second; c.CallTimeout = time.Second })

	warm := testenv.UniqueName("warm")
	s.publish(startCmd(warm, "pay-"+warm, false))
	s.waitState(warm, domain.StateShipped, 30*time.Second)

	srv.Stop()
	const n = 10
	orders := make([]string, n)
	for i := range orders {
		orders[i] = testenv.UniqueName(fmt.Sprintf("out%02d", i))
		s.publish(startCmd(orders[i], "pay-"+orders[i], false))
		if i%2 == 0 {
			s.publish(signalCmd(orders[i], contracts.CommandCancel))
		}
	}
	held := n + n/2
	s.waitConsumer("held every command", 30*time.Second, func(ci *jetstream.ConsumerInfo) bool {
		return ci.NumAckPending == held
	})
	// The outage outlasts AckWait twice: without keep-alives the broker
	// would redeliver.
	time.Sleep(2 * s.cfg.AckWait)
	if ci, err := s.consumerInfo(); err != nil || ci.NumRedelivered != 0 || ci.NumAckPending != held {
		t.Fatalf("while Temporal is down: %+v, %v", ci, err)
	}

	// A stopped bridge returns promptly and gives the commands back; the
	// next one picks them all up again, still while Temporal is down.
	stopped := time.Now()
	s.stopBridge()
	if d := time.Since(stopped); d > 5*time.Second {
		t.Fatalf("bridge took %s to stop", d)
	}
	s.startBridge()
	s.waitConsumer("redelivered every command to the new bridge", 30*time.Second, func(ci *jetstream.ConsumerInfo) bool {
		return ci.NumAckPending == held && ci.NumRedelivered == held
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	s.waitSettled(2 * time.Minute)
	for i, id := range orders {
		rs := s.results(contracts.ResultSubject(id))
		want := []contracts.Outcome{contracts.OutcomeStarted}
		state := domain.StateShipped
		if i%2 == 0 {
			want = append(want, contracts.OutcomeApplied)
			state = domain.StateCancelled
		}
		if len(rs) != len(want) {
			t.Fatalf("order %s: results %+v", id, rs)
		}
		for j := range want {
			if rs[j].Outcome != want[j] {
				t.Fatalf("order %s: results %+v, want %v", id, rs, want)
			}
		}
		r := s.waitState(id, state, 30*time.Second)
		cancels := 0
		for _, sig := range r.Status.Signals {
			if sig.Signal == contracts.SignalCancel {
				cancels++
			}
		}
		if cancels != len(want)-1 {
			t.Fatalf("order %s saw %d cancel signals: %+v", id, cancels, r.Status.Signals)
		}
		if got := countRuns(t, s, id); got != 1 {
			t.Fatalf("order %s has %d runs", id, got)
		}
	}
}

// A command the broker has delivered MaxDeliver times without an ack (a
// bridge kept dying on it) is dead-lettered from the broker's advisory and
// its sender sees the rejection, instead of it vanishing silently.
func TestCommandPastMaxDeliveriesIsDeadLettered(t *testing.T) {
	s := newIdleStack(t, testenv.Temporal(t), func(c *bridge.Config) { c.AckWait = 3 * time.Second; c.MaxDeliver = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons := s.bridgeConsumer(ctx, t)
	orderID := testenv.UniqueName("poison")
	cmd := startCmd(orderID, "pay-"+orderID, false)
	s.publish(cmd)
	// Two deliveries taken and never acknowledged, as by a crashing bridge.
	for range s.cfg.MaxDeliver {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*s.cfg.AckWait), jetstream.FetchPriorityGroup(ports.PriorityGroup))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for range batch.Messages() {
			got++
		}
		if got != 1 || batch.Error() != nil {
			t.Fatalf("fetch: %d messages, %v", got, batch.Error())
		}
	}
	s.startBridge()

	rs := s.waitResults(contracts.ResultSubject(orderID), 1, 30*time.Second)
	if r := rs[0]; r.CommandID != cmd.CommandID || r.Outcome != contracts.OutcomeRejected || !strings.Contains(r.Reason, "not settled after 2 deliveries") {
		t.Fatalf("result: %+v", r)
	}
	dlq := s.deadLetters()
	if len(dlq) != 1 || dlq[0].Headers().Get(contracts.HeaderOriginalSubject) != contracts.CommandSubject(orderID, contracts.CommandStart) {
		t.Fatalf("dead letters: %d", len(dlq))
	}
	if _, err := s.tc.DescribeWorkflow(ctx, contracts.OrderWorkflowID(orderID), ""); err == nil {
		t.Fatalf("a dead-lettered start created a workflow")
	}
}

// JetStream may hand a bridge an order's cancel before its start, when the
// start is being redelivered (here: a crashed consumer took it). The cancel
// steps aside while the workflow does not exist, the start overtakes it in
// stream order, and the order still ends cancelled.
func TestRedeliveredStartOvertakesItsCancel(t *testing.T) {
	s := newIdleStack(t, testenv.Temporal(t), func(c *bridge.Config) {
		c.AckWait = 3 * time.Second
		c.NotFoundGrace = 15 * time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons := s.bridgeConsumer(ctx, t)
	orderID := testenv.UniqueName("reord")
	start := startCmd(orderID, "pay-"+orderID, true)
	s.publish(start)
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second), jetstream.FetchPriorityGroup(ports.PriorityGroup))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if m.Subject() != contracts.CommandSubject(orderID, contracts.CommandStart) {
			t.Fatalf("crashed consumer took %s", m.Subject())
		}
	}
	cancelCmd := signalCmd(orderID, contracts.CommandCancel)
	s.publish(cancelCmd)
	s.startBridge()

	rs := byCommand(t, s.waitResults(contracts.ResultSubject(orderID), 2, 30*time.Second))
	if rs[start.CommandID].Outcome != contracts.OutcomeStarted || rs[cancelCmd.CommandID].Outcome != contracts.OutcomeApplied {
		t.Fatalf("results: %+v", rs)
	}
	s.waitState(orderID, domain.StateCancelled, 30*time.Second)
}

// bridgeConsumer declares the bridge's durable consumer before the bridge
// runs, so a test can take deliveries from it the way a crashing bridge would.
func (s *stack) bridgeConsumer(ctx context.Context, t *testing.T) jetstream.Consumer {
	t.Helper()
	cons, err := s.JS.CreateOrUpdateConsumer(ctx, contracts.StreamCommands, ports.ConsumerConfig(ports.ConsumerOptions{
		Durable: s.cfg.Durable, AckWait: s.cfg.AckWait, MaxDeliver: s.cfg.MaxDeliver, MaxAckPending: s.cfg.MaxAckPending, PinnedTTL: s.cfg.PinnedTTL,
	}))
	if err != nil {
		t.Fatal(err)
	}
	return cons
}
