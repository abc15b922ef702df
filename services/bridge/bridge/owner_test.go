package bridge_test

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/bridge/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

// The bridge checks the owner a command names against the workflow's
// (memo), so another client's signal or start never reaches the order even
// if it slipped past the API: the signal is rejected as for an unknown
// order and the start as a taken ID, while the owner's own signal applies.
func TestCommandsOfAnotherOwnerAreRejected(t *testing.T) {
	s := newStack(t, testenv.Temporal(t), nil)
	orderID := testenv.UniqueName("owned")
	start := startCmd(orderID, "pay-"+orderID, true)
	start.Owner = "alice"
	s.publish(start)

	bobCancel := signalCmd(orderID, contracts.CommandCancel)
	bobCancel.Owner = "bob"
	bobStart := startCmd(orderID, "pay-"+orderID, true)
	bobStart.Owner = "bob"
	aliceApprove := signalCmd(orderID, contracts.CommandApprove)
	aliceApprove.Owner = "alice"
	s.publish(bobCancel)
	s.publish(bobStart)
	s.publish(aliceApprove)

	got := byCommand(t, s.waitResults(contracts.ResultSubject(orderID), 4, 30*time.Second))
	for _, c := range []struct {
		cmd     contracts.Command
		outcome contracts.Outcome
		reason  string
	}{
		{start, contracts.OutcomeStarted, ""},
		{bobCancel, contracts.OutcomeRejected, app.ReasonUnknownOrder},
		{bobStart, contracts.OutcomeRejected, app.ReasonOrderIDTaken},
		{aliceApprove, contracts.OutcomeApplied, ""},
	} {
		r := got[c.cmd.CommandID]
		if r.Outcome != c.outcome || r.Reason != c.reason {
			t.Errorf("%s by %s: %s %q, want %s %q", c.cmd.Kind, c.cmd.Owner, r.Outcome, r.Reason, c.outcome, c.reason)
		}
	}
	st := s.waitState(orderID, domain.StateShipped, 30*time.Second)
	if st.Owner != "alice" || !st.OwnerKnown || st.Status.Owner != "alice" {
		t.Fatalf("live status owner %q (known %v, status %q), want alice", st.Owner, st.OwnerKnown, st.Status.Owner)
	}
	for _, sig := range st.Status.Signals {
		if sig.Signal == contracts.SignalCancel {
			t.Fatalf("bob's cancel reached the workflow: %+v", st.Status.Signals)
		}
	}
}
