package bridge_test

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/contracts"
)

// startWorkers runs a stand-in OrderWorkflow: it waits for approve or
// cancel, dedupes signals by command ID and answers `status`.
func startWorkers(t *testing.T, tc client.Client, cfg bridge.Config, _ jetstream.JetStream) {
	w := worker.New(tc, cfg.OrdersTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(fakeOrder, workflow.RegisterOptions{Name: contracts.WorkflowOrder})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
}

func fakeOrder(ctx workflow.Context, in contracts.OrderInput) error {
	st := contracts.OrderStatus{
		OrderID: in.OrderID, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		State: contracts.StateAwaitingApproval, Step: contracts.StepManualReview,
		Items: in.Items, Address: in.Address, ManualReview: in.ManualReview,
		Payment: contracts.PaymentInfo{PaymentID: in.PaymentID}, AcceptedAt: in.AcceptedAt,
	}
	if err := workflow.SetQueryHandler(ctx, contracts.QueryStatus, func() (contracts.OrderStatus, error) { return st, nil }); err != nil {
		return err
	}
	seen := map[string]bool{}
	sel := workflow.NewSelector(ctx)
	for _, name := range []string{contracts.SignalCancel, contracts.SignalApprove, contracts.SignalUpdateAddress} {
		ch := workflow.GetSignalChannel(ctx, name)
		sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
			var p contracts.SignalPayload
			c.Receive(ctx, &p)
			if seen[p.CommandID] {
				return
			}
			seen[p.CommandID] = true
			st.Signals = append(st.Signals, contracts.SignalRecord{Signal: name, Accepted: true, At: workflow.Now(ctx)})
			switch name {
			case contracts.SignalCancel:
				st.State = contracts.StateCancelled
			case contracts.SignalApprove:
				st.State = contracts.StateShipped
			}
		})
	}
	for !st.State.Terminal() {
		sel.Select(ctx)
	}
	return nil
}
