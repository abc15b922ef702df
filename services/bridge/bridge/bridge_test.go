package bridge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/services/bridge/internal/adapters"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

// The same start, 50 times: copies sharing a message ID are dropped by the
// broker, the rest reach the bridge, and Temporal's workflow ID makes all
// but the first a duplicate. One workflow, 49 non-starts.
func TestRepeatedStartStartsOneWorkflow(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	orderID := testenv.UniqueName("dup")
	first := startCmd(orderID, "pay-"+orderID, true)
	brokerDups := 0
	for i := range 50 {
		cmd := first
		if i%5 != 0 { // 10 share the first ID, 40 carry IDs of their own
			cmd.CommandID = fmt.Sprintf("%s-%d", first.CommandID, i)
		}
		if s.publish(cmd) {
			brokerDups++
		}
	}
	s.waitSettled(time.Minute)
	rs := byCommand(t, s.results(contracts.ResultSubject(orderID)))
	counts := map[contracts.Outcome]int{}
	for _, r := range rs {
		counts[r.Outcome]++
	}
	if brokerDups != 9 || counts[contracts.OutcomeStarted] != 1 || counts[contracts.OutcomeDuplicate] != 40 || len(rs) != 41 {
		t.Fatalf("broker duplicates %d, outcomes %v (want 9, 1 started, 40 duplicate)", brokerDups, counts)
	}
	if rs[first.CommandID].Outcome != contracts.OutcomeStarted {
		t.Fatalf("first command: %+v", rs[first.CommandID])
	}
	if got := countRuns(t, s, orderID); got != 1 {
		t.Fatalf("%d workflow runs for %s", got, orderID)
	}
	approve := signalCmd(orderID, contracts.CommandApprove)
	s.publish(approve)
	s.waitState(orderID, domain.StateShipped, 30*time.Second)
	assertOneCharge(t, s, orderID)
}

// Start and cancel published back to back for 100 orders: per-order
// ordering means every cancel finds its workflow, and all end cancelled.
func TestStartThenCancelBackToBack(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	orders := make([]string, 100)
	for i := range orders {
		orders[i] = testenv.UniqueName(fmt.Sprintf("sc%03d", i))
		s.publish(startCmd(orders[i], "pay-"+orders[i], false))
		s.publish(signalCmd(orders[i], contracts.CommandCancel))
	}
	s.waitSettled(2 * time.Minute)
	for _, id := range orders {
		rs := s.results(contracts.ResultSubject(id))
		if len(rs) != 2 || rs[0].Outcome != contracts.OutcomeStarted || rs[1].Outcome != contracts.OutcomeApplied {
			t.Fatalf("order %s results: %+v", id, rs)
		}
	}
	// Wait for every run to close first: the status of a running order is a
	// query the busy workers answer late under load, a closed run's is its
	// result.
	deadline := time.Now().Add(2 * time.Minute)
	for _, id := range orders {
		if err := s.workflowClosed(id, time.Until(deadline)); err != nil {
			t.Fatalf("order %s: workflow failed: %v", id, err)
		}
		s.waitState(id, domain.StateCancelled, 10*time.Second)
	}
}

// Messages that can never succeed go to the dead-letter subject with the
// reason, the sender sees a rejection where an order is named, and the
// consumer goes on applying valid commands.
func TestMalformedCommandsAreDeadLettered(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	orderID := testenv.UniqueName("bad")
	cases := []struct {
		subject, body, reason string
		hasOrder              bool
	}{
		{contracts.CommandSubject(orderID, contracts.CommandStart), `{"payment_id": `, "not valid JSON", true},
		{contracts.CommandsRoot + "." + orderID + ".explode", `{}`, "unknown command kind", true},
		{contracts.CommandsRoot + ".a.b.start", `{"payment_id":"p"}`, "is not orders.commands.<order_id>.<kind>", false},
		{contracts.CommandsRoot + ".bad$id.start", `{"payment_id":"p"}`, "may contain only", false},
		{contracts.CommandSubject(orderID, contracts.CommandStart), `{"items":[]}`, "payment_id is required", true},
	}
	for i, c := range cases {
		m := nats.NewMsg(c.subject)
		m.Data = []byte(c.body)
		m.Header.Set(contracts.HeaderMsgID, fmt.Sprintf("bad-%s-%d", orderID, i))
		s.publishMsg(m)
	}
	good := startCmd(orderID, "pay-"+orderID, true)
	s.publish(good)
	s.waitSettled(time.Minute)

	// Partitions run concurrently, so dead letters come in any order; each
	// carries the original message ID, prefixed.
	dlq := map[string]jetstream.Msg{}
	for _, m := range s.deadLetters() {
		dlq[m.Headers().Get(contracts.HeaderMsgID)] = m
	}
	if len(dlq) != len(cases) {
		t.Fatalf("%d dead letters, want %d", len(dlq), len(cases))
	}
	for i, c := range cases {
		m, ok := dlq[fmt.Sprintf("dlq-bad-%s-%d", orderID, i)]
		if !ok {
			t.Fatalf("dead letter %d missing", i)
		}
		if got := m.Headers().Get(contracts.HeaderOriginalSubject); got != c.subject {
			t.Errorf("dead letter %d: original subject %q, want %q", i, got, c.subject)
		}
		if got := m.Headers().Get(contracts.HeaderReason); !strings.Contains(got, c.reason) {
			t.Errorf("dead letter %d: reason %q, want it to mention %q", i, got, c.reason)
		}
		if string(m.Data()) != c.body {
			t.Errorf("dead letter %d: body %q, want %q", i, m.Data(), c.body)
		}
	}
	rs := byCommand(t, s.results(contracts.ResultSubject(orderID)))
	for i, c := range cases {
		r, ok := rs[fmt.Sprintf("bad-%s-%d", orderID, i)]
		if ok != c.hasOrder || (ok && (r.Outcome != contracts.OutcomeRejected || !strings.Contains(r.Reason, c.reason))) {
			t.Errorf("case %d: result %+v (present %v, want %v)", i, r, ok, c.hasOrder)
		}
	}
	if rs[good.CommandID].Outcome != contracts.OutcomeStarted {
		t.Fatalf("valid command after the bad ones: %+v", rs[good.CommandID])
	}
	if got := s.metric("orderflow_bridge_commands_dead_lettered_total", map[string]string{"reason": "undecodable"}); got != float64(len(cases)) {
		t.Errorf("dead-letter counter %v, want %d", got, len(cases))
	}
	if got := s.metric("orderflow_bridge_commands_total", map[string]string{"kind": "start", "outcome": "started"}); got != 1 {
		t.Errorf("started counter %v, want 1", got)
	}
}

// A signal for an order that never existed is rejected with a reason once
// the not-found grace has passed.
func TestSignalForUnknownOrderIsRejected(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	orderID := testenv.UniqueName("ghost")
	for _, kind := range []contracts.CommandKind{contracts.CommandCancel, contracts.CommandApprove} {
		s.publish(signalCmd(orderID, kind))
	}
	addr := signalCmd(orderID, contracts.CommandUpdateAddress)
	addr.Address = &domain.Address{Street: "2 Side St", City: "Shelbyville", State: "CA", ZipCode: "94001"}
	s.publish(addr)
	for _, r := range s.waitResults(contracts.ResultSubject(orderID), 3, 30*time.Second) {
		if r.Outcome != contracts.OutcomeRejected || r.Reason != "unknown order" {
			t.Fatalf("result %+v, want rejected: unknown order", r)
		}
	}
	if got := s.metric("orderflow_bridge_commands_total", map[string]string{"outcome": "rejected", "reason": "unknown_order"}); got != 3 {
		t.Errorf("rejected counter %v, want 3", got)
	}
}

// A start for a finished order, or with another payment ID, is rejected.
func TestConflictingStartsAreRejected(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	orderID := testenv.UniqueName("conf")
	s.publish(startCmd(orderID, "pay-1-"+orderID, true))
	other := startCmd(orderID, "pay-2-"+orderID, true)
	s.publish(other)
	rs := s.waitResults(contracts.ResultSubject(orderID), 2, 30*time.Second)
	if rs[1].CommandID != other.CommandID || rs[1].Outcome != contracts.OutcomeRejected ||
		rs[1].Reason != "order already exists with a different payment_id" {
		t.Fatalf("start with another payment: %+v", rs[1])
	}

	s.publish(signalCmd(orderID, contracts.CommandCancel))
	if err := s.workflowClosed(orderID, 30*time.Second); err != nil {
		t.Fatalf("cancelled order's workflow: %v", err)
	}
	again := startCmd(orderID, "pay-1-"+orderID, false)
	s.publish(again)
	late := signalCmd(orderID, contracts.CommandApprove)
	s.publish(late)
	byID := byCommand(t, s.waitResults(contracts.ResultSubject(orderID), 5, 30*time.Second))
	if r := byID[again.CommandID]; r.Outcome != contracts.OutcomeRejected || r.Reason != "order already finished" {
		t.Fatalf("start of a finished order: %+v", r)
	}
	if r := byID[late.CommandID]; r.Outcome != contracts.OutcomeRejected || r.Reason != "order already finished" {
		t.Fatalf("signal to a finished order: %+v", r)
	}
}

// Live status over request/reply: running and finished orders answer from
// Temporal, an unknown order says NotFound.
func TestLiveStatus(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	orderID := testenv.UniqueName("st")
	s.publish(startCmd(orderID, "pay-"+orderID, true))
	s.waitResults(contracts.ResultSubject(orderID), 1, 30*time.Second)

	r := s.waitState(orderID, domain.StateAwaitingApproval, 30*time.Second)
	if r.Source != "temporal" || r.WorkflowStatus != "RUNNING" || r.WorkflowID != contracts.OrderWorkflowID(orderID) ||
		r.RunID == "" || r.Status.Payment.PaymentID != "pay-"+orderID || r.NotFound {
		t.Fatalf("running order: %+v", r)
	}

	s.publish(signalCmd(orderID, contracts.CommandCancel))
	if err := s.workflowClosed(orderID, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	r = s.status(orderID)
	if r.WorkflowStatus != "COMPLETED" || r.Status == nil || r.Status.State != domain.StateCancelled || r.Error != "" {
		t.Fatalf("finished order: %+v", r)
	}

	r = s.status(testenv.UniqueName("nobody"))
	if !r.NotFound || r.Status != nil {
		t.Fatalf("unknown order: %+v", r)
	}
}

// Finished orders answer from the run's result, so their status needs no
// worker: a completed run its returned status, a failed one the status in
// its failure's details.
func TestFinishedOrderStatusNeedsNoWorker(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	cancelled := testenv.UniqueName("fin")
	s.publish(startCmd(cancelled, "pay-"+cancelled, true))
	s.publish(signalCmd(cancelled, contracts.CommandCancel))
	s.waitResults(contracts.ResultSubject(cancelled), 2, 30*time.Second) // the workflow exists
	if err := s.workflowClosed(cancelled, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// An order with no items fails validation: started directly, as the
	// bridge fills in default items.
	failed := testenv.UniqueName("fail")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: contracts.OrderWorkflowID(failed), TaskQueue: s.cfg.OrdersTaskQueue},
		contracts.WorkflowOrder, contracts.OrderInput{OrderID: failed, PaymentID: "pay-" + failed}); err != nil {
		t.Fatal(err)
	}
	if err := s.workflowClosed(failed, 30*time.Second); err == nil {
		t.Fatal("an order without items completed")
	}

	s.stopWorkers()
	for id, want := range map[string]domain.OrderState{cancelled: domain.StateCancelled, failed: domain.StateFailed} {
		r := s.status(id)
		if r.Status == nil || r.Status.State != want || r.Error != "" || r.RunID == "" {
			t.Fatalf("%s with no worker: %+v, want %s", id, r, want)
		}
	}
}

// A bridge that dies after starting the workflow but before acknowledging
// the command sees it again: the run it finds was started with this very
// command ID, so the answer is "started", not a duplicate.
func TestRedeliveredStartThatCreatedTheRunReportsStarted(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	orderID := testenv.UniqueName("again")
	cmd := startCmd(orderID, "pay-"+orderID, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runID, err := adapters.NewWorkflows(s.tc, s.cfg.OrdersTaskQueue, nil).StartOrder(ctx, contracts.OrderInput{
		OrderID: orderID, PaymentID: cmd.PaymentID, Items: domain.DefaultItems(), Address: domain.DefaultAddress(),
		ManualReview: true, CommandID: cmd.CommandID, AcceptedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.publish(cmd)
	other := cmd
	other.CommandID = cmd.CommandID + "-other"
	s.publish(other)
	rs := byCommand(t, s.waitResults(contracts.ResultSubject(orderID), 2, 30*time.Second))
	if r := rs[cmd.CommandID]; r.Outcome != contracts.OutcomeStarted || r.RunID != runID {
		t.Fatalf("redelivered start: %+v (run %s)", r, runID)
	}
	if r := rs[other.CommandID]; r.Outcome != contracts.OutcomeDuplicate || r.RunID != runID {
		t.Fatalf("another start: %+v", r)
	}
}
