package shipment

import (
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
)

// forwarded is a signal the parent passed on, waiting for a decision.
type forwarded struct {
	signal  string
	payload contracts.SignalPayload
}

// receiveSignals runs for the child's lifetime, applying forwarded signals.
func (s *shipping) receiveSignals(ctx workflow.Context) {
	cancelCh := workflow.GetSignalChannel(ctx, contracts.SignalCancel)
	addrCh := workflow.GetSignalChannel(ctx, contracts.SignalUpdateAddress)
	receive := func(name string) func(workflow.ReceiveChannel, bool) {
		return func(c workflow.ReceiveChannel, _ bool) {
			var p contracts.SignalPayload
			c.Receive(ctx, &p)
			s.onSignal(name, p)
		}
	}
	for {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(cancelCh, receive(contracts.SignalCancel))
		sel.AddReceive(addrCh, receive(contracts.SignalUpdateAddress))
		sel.Select(ctx)
	}
}

func (s *shipping) onSignal(name string, p contracts.SignalPayload) {
	if p.CommandID != "" {
		if s.seen[p.CommandID] {
			s.log.Info("duplicate signal ignored", "signal", name, logging.KeyCommandID, p.CommandID)
			return
		}
		s.seen[p.CommandID] = true
	}
	switch {
	case s.dispatched:
		s.decide(name, p, false, "carrier already dispatched")
	case s.dispatching:
		// The attempt in flight may dispatch: decide once it has settled.
		s.pending = append(s.pending, forwarded{signal: name, payload: p})
		return
	default:
		s.apply(name, p)
	}
	s.report()
}

// apply accepts a signal that arrived before dispatch.
func (s *shipping) apply(name string, p contracts.SignalPayload) {
	switch name {
	case contracts.SignalCancel:
		s.cancelled = true
		s.decide(name, p, true, p.Reason)
	case contracts.SignalUpdateAddress:
		if p.Address == nil {
			s.decide(name, p, false, "no address given")
			return
		}
		s.rep.Address = *p.Address
		s.decide(name, p, true, "")
	}
}

func (s *shipping) decide(name string, p contracts.SignalPayload, accepted bool, reason string) {
	s.log.Info("signal decided", "signal", name, logging.KeyCommandID, p.CommandID, "accepted", accepted, "reason", reason)
	s.rep.Decisions = append(s.rep.Decisions, contracts.SignalDecision{
		CommandID: p.CommandID, Signal: name, Accepted: accepted, Reason: reason, Address: p.Address, At: workflow.Now(s.ctx),
	})
}

// settlePending decides the signals that waited for the dispatch step:
// refused once the carrier has the package, applied otherwise.
func (s *shipping) settlePending() {
	for _, f := range s.pending {
		if s.dispatched {
			s.decide(f.signal, f.payload, false, "carrier already dispatched")
		} else {
			s.apply(f.signal, f.payload)
		}
	}
	s.pending = nil
}
