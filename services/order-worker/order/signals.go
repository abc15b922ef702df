package order

import (
	"strconv"

	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
)

// receiveSignals runs for the workflow's lifetime and applies every signal
// as it arrives, so waits in the main flow only watch state.
func (o *order) receiveSignals(ctx workflow.Context) {
	payload := func(name string) func(workflow.ReceiveChannel, bool) {
		return func(c workflow.ReceiveChannel, _ bool) {
			var p contracts.SignalPayload
			c.Receive(ctx, &p)
			o.onSignal(name, p)
		}
	}
	cancelCh := workflow.GetSignalChannel(ctx, contracts.SignalCancel)
	addrCh := workflow.GetSignalChannel(ctx, contracts.SignalUpdateAddress)
	approveCh := workflow.GetSignalChannel(ctx, contracts.SignalApprove)
	failedCh := workflow.GetSignalChannel(ctx, contracts.SignalDispatchFailed)
	progressCh := workflow.GetSignalChannel(ctx, contracts.SignalShippingProgress)
	for {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(cancelCh, payload(contracts.SignalCancel))
		sel.AddReceive(addrCh, payload(contracts.SignalUpdateAddress))
		sel.AddReceive(approveCh, payload(contracts.SignalApprove))
		sel.AddReceive(failedCh, func(c workflow.ReceiveChannel, _ bool) {
			var p contracts.DispatchFailedPayload
			c.Receive(ctx, &p)
			if o.child != nil && p.Attempt == o.child.attempt {
				o.noteDispatchFailed(p.Attempt, p.Reason)
			}
		})
		sel.AddReceive(progressCh, func(c workflow.ReceiveChannel, _ bool) {
			var rep contracts.ShippingReport
			c.Receive(ctx, &rep)
			o.applyReport(rep)
		})
		sel.Select(ctx)
	}
}

// onSignal applies a client signal. The bridge may redeliver a command, so a
// repeated CommandID is ignored.
func (o *order) onSignal(name string, p contracts.SignalPayload) {
	if p.CommandID == "" {
		o.anonSignal++
		p.CommandID = "anonymous-" + strconv.Itoa(o.anonSignal)
	} else if o.seen[p.CommandID] {
		o.log.Info("duplicate signal ignored", "signal", name, logging.KeyCommandID, p.CommandID)
		return
	}
	o.seen[p.CommandID] = true
	o.log.Info("signal received", "signal", name, logging.KeyCommandID, p.CommandID, "state", o.st.State)

	if o.st.State.Terminal() {
		o.reject(name, p, "order is already "+string(o.st.State))
		return
	}
	switch name {
	case contracts.SignalApprove:
		if o.approved {
			o.reject(name, p, "order is already approved")
			return
		}
		o.approved, o.approvedBy = true, "signal"
		o.record(name, true, p.Reason)
	case contracts.SignalCancel, contracts.SignalUpdateAddress:
		if name == contracts.SignalUpdateAddress && p.Address == nil {
			o.reject(name, p, "no address given")
			return
		}
		if o.st.Shipping != nil && o.st.Shipping.DispatchedAt != nil {
			o.reject(name, p, "carrier already dispatched")
			return
		}
		if name == contracts.SignalCancel && o.cancel != nil {
			o.reject(name, p, "order is already being cancelled")
			return
		}
		f := forwardedSignal{signal: name, payload: p}
		if o.child != nil {
			// Shipping is running: only the child knows whether dispatch
			// has happened, so it decides and reports back.
			o.forwarded[p.CommandID] = f
			o.forwardOrder = append(o.forwardOrder, p.CommandID)
			if o.child.started {
				o.forward(f)
			} else {
				o.child.pending = append(o.child.pending, f)
			}
			return
		}
		o.decided(f, true, p.Reason)
	}
}

func (o *order) forward(f forwardedSignal) {
	o.log.Info("signal forwarded to shipping", "signal", f.signal, logging.KeyCommandID, f.payload.CommandID)
	if workflow.GetVersion(o.ctx, changeSerialForward, workflow.DefaultVersion, versionSerialForward) == workflow.DefaultVersion {
		o.child.fut.SignalChildWorkflow(o.ctx, f.signal, f.payload)
		return
	}
	// One at a time, each once the one before has reached the child: two
	// signals in flight at once may reach it in either order, and an
	// address update must not overtake the one before it. If the child has
	// already ended, the signal fails and the parent settles it from the
	// child's result (settleLeftovers).
	ch := o.child
	ch.outbox = append(ch.outbox, f)
	if ch.sending {
		return
	}
	ch.sending = true
	workflow.Go(o.ctx, func(ctx workflow.Context) {
		for len(ch.outbox) > 0 {
			next := ch.outbox[0]
			ch.outbox = ch.outbox[1:]
			_ = ch.fut.SignalChildWorkflow(ctx, next.signal, next.payload).Get(ctx, nil)
		}
		ch.sending = false
	})
}

func (o *order) record(name string, accepted bool, reason string) {
	o.st.Signals = append(o.st.Signals, contracts.SignalRecord{Signal: name, Accepted: accepted, Reason: reason, At: workflow.Now(o.ctx)})
	if n := len(o.st.Signals); n > maxSignalRecords {
		o.st.Signals = o.st.Signals[n-maxSignalRecords:]
	}
}

// reject records a signal that changed nothing, visibly: in status and as a
// signal_rejected event.
func (o *order) reject(name string, p contracts.SignalPayload, reason string) {
	o.log.Info("signal rejected", "signal", name, logging.KeyCommandID, p.CommandID, "reason", reason)
	o.record(name, false, reason)
	if o.st.State.Terminal() {
		// The terminal event stays the order's last. A signal arriving
		// while it is being published is rejected in status; once the
		// workflow has closed, the bridge rejects it.
		return
	}
	o.emit(contracts.EventSignalRejected, map[string]string{"signal": name, "command_id": p.CommandID, "reason": reason})
}
