package v0

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/step/v0loop"
)

// Defaults used when the parent leaves a setting at zero.
const (
	DefaultStepTimeout         = 250 * time.Millisecond
	DefaultMaxDispatchAttempts = 10
)

// shipping is the state of one ShippingWorkflow run.
type shipping struct {
	ctx  workflow.Context
	in   contracts.ShippingInput
	rep  contracts.ShippingReport
	log  log.Logger
	seen map[string]bool

	// dispatching is true while dispatch attempts run: a cancel or address
	// change then waits (pending) until the attempt in flight has settled,
	// because only its outcome says whether the carrier took the package.
	dispatching bool
	dispatched  bool
	cancelled   bool
	pending     []forwarded

	reports []workflow.Future
}

type forwarded struct {
	signal  string
	payload contracts.SignalPayload
}

// ShippingWorkflow prepares the package, dispatches the carrier and marks
// the order shipped, for one shipping attempt of its parent OrderWorkflow.
// It decides forwarded cancel and update-address signals itself, because
// dispatch is the point of no return and only the child knows whether it
// has happened; it reports progress and decisions to the parent, which
// publishes the events. A dispatch that fails for good is signalled to the
// parent (dispatch-failed) and ends the child.
func ShippingWorkflow(ctx workflow.Context, in contracts.ShippingInput) (contracts.ShippingReport, error) {
	if in.StepTimeout <= 0 {
		in.StepTimeout = DefaultStepTimeout
	}
	if in.MaxDispatchAttempts <= 0 {
		in.MaxDispatchAttempts = DefaultMaxDispatchAttempts
	}
	info := workflow.GetInfo(ctx)
	s := &shipping{
		ctx:  ctx,
		in:   in,
		rep:  contracts.ShippingReport{Attempt: in.Attempt, Address: in.Address, Attempts: map[domain.Step]int{}},
		log:  log.With(workflow.GetLogger(ctx), logging.KeyOrderID, in.OrderID, logging.KeyWorkflowID, info.WorkflowExecution.ID),
		seen: map[string]bool{},
	}
	if err := workflow.SetQueryHandler(ctx, contracts.QueryStatus, func() (contracts.ShippingReport, error) { return s.rep, nil }); err != nil {
		return s.rep, fmt.Errorf("register status query: %w", err)
	}
	workflow.Go(ctx, s.receiveSignals)
	s.log.Info("shipping started", "shipping_attempt", in.Attempt)

	// Prepare: a cancel or address change is accepted at once.
	if _, err := v0loop.Run(ctx, s.step(domain.StepPreparePackage, 0), "PreparePackage", s.arg, nil); err != nil {
		if errors.Is(err, v0loop.ErrStopped) {
			return s.finish(ctx, contracts.ShippingCancelled, "cancelled before the package was prepared")
		}
		return s.rep, err
	}
	now := workflow.Now(ctx)
	s.rep.PreparedAt = &now
	s.log.Info("package prepared")
	// Not flushed: it reaches the parent with the next workflow task, at
	// the latest with dispatch, and a round trip per order is saved.
	s.report()
	if s.cancelled {
		return s.finish(ctx, contracts.ShippingCancelled, "cancelled before dispatch")
	}

	// Dispatch: signals arriving now are settled between attempts.
	s.dispatching = true
	var d struct {
		Carrier        string `json:"carrier"`
		TrackingNumber string `json:"tracking_number"`
	}
	_, err := v0loop.Run(ctx, s.step(domain.StepDispatchCarrier, in.MaxDispatchAttempts), "DispatchCarrier", s.arg, &d)
	s.dispatching = false
	switch {
	case err == nil:
		now := workflow.Now(ctx)
		s.dispatched = true
		s.rep.DispatchedAt, s.rep.Carrier, s.rep.TrackingNumber = &now, d.Carrier, d.TrackingNumber
		s.log.Info("carrier dispatched", "carrier", d.Carrier, "tracking_number", d.TrackingNumber)
		s.settlePending() // too late for anything pending now
		// Flushed: dispatch is the point of no return, the parent must
		// show it (and refuse a cancel itself) as soon as possible.
		s.report()
		s.flush(ctx)
	case errors.Is(err, v0loop.ErrStopped):
		return s.finish(ctx, contracts.ShippingCancelled, "cancelled before dispatch")
	case errors.Is(err, v0loop.ErrExhausted):
		s.settlePending()
		if s.cancelled {
			return s.finish(ctx, contracts.ShippingCancelled, "cancelled before dispatch")
		}
		reason := v0loop.Message(err)
		s.log.Warn("dispatch failed for good", logging.KeyStep, domain.StepDispatchCarrier, logging.Err(err))
		f := workflow.SignalExternalWorkflow(ctx, in.ParentWorkflowID, "", contracts.SignalDispatchFailed,
			contracts.DispatchFailedPayload{Attempt: in.Attempt, Reason: reason})
		if err := f.Get(ctx, nil); err != nil {
			s.log.Warn("signal dispatch-failed to parent", logging.Err(err))
		}
		return s.finish(ctx, contracts.ShippingDispatchFailed, reason)
	default:
		return s.rep, err
	}

	// Mark shipped: past the point of no return, nothing stops it.
	if _, err := v0loop.Run(ctx, s.step(domain.StepMarkShipped, 0), "MarkShipped", s.arg, nil); err != nil {
		return s.rep, err
	}
	now = workflow.Now(ctx)
	s.rep.ShippedAt = &now
	return s.finish(ctx, contracts.ShippingShipped, "")
}

func (s *shipping) arg(attempt int) any {
	return StepInput{OrderID: s.in.OrderID, ShippingAttempt: s.in.Attempt, Attempt: attempt, Address: s.rep.Address, Items: s.in.Items}
}

func (s *shipping) step(name domain.Step, maxAttempts int) v0loop.Step {
	return v0loop.Step{
		Name:        name,
		Timeout:     s.in.StepTimeout,
		MaxAttempts: maxAttempts,
		Stop: func() bool {
			s.settlePendingBeforeRetry()
			return s.cancelled
		},
		OnAttempt: func(attempt int) { s.rep.Attempts[name] = attempt },
		OnError: func(attempt int, err error) {
			s.rep.Errors = append(s.rep.Errors, contracts.StepError{Step: name, Attempt: attempt, Error: v0loop.Message(err), At: workflow.Now(s.ctx)})
			if n := len(s.rep.Errors); n > contracts.MaxRecentErrors {
				s.rep.Errors = s.rep.Errors[n-contracts.MaxRecentErrors:]
			}
		},
		Logger: s.log,
	}
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

// settlePendingBeforeRetry runs after a failed dispatch attempt: the carrier
// has not got the package, so pending signals are accepted.
func (s *shipping) settlePendingBeforeRetry() {
	if len(s.pending) == 0 {
		return
	}
	for _, f := range s.pending {
		s.apply(f.signal, f.payload)
	}
	s.pending = nil
	s.report()
}

// settlePending runs when dispatching has ended either way.
func (s *shipping) settlePending() {
	if s.dispatched {
		for _, f := range s.pending {
			s.decide(f.signal, f.payload, false, "carrier already dispatched")
		}
		s.pending = nil
		return
	}
	for _, f := range s.pending {
		s.apply(f.signal, f.payload)
	}
	s.pending = nil
}

// report queues the cumulative progress for the parent. A command leaves
// the worker only when the workflow task completes, and a task running
// local activities stays open until they are all done, so the main flow
// calls flush after a transition the parent should show at once.
func (s *shipping) report() {
	s.rep.Seq++
	s.reports = append(s.reports, workflow.SignalExternalWorkflow(s.ctx, s.in.ParentWorkflowID, "", contracts.SignalShippingProgress, s.rep))
}

// flush waits until every queued report has reached the parent (one server
// round trip), so none is late and none is lost when the child ends.
func (s *shipping) flush(ctx workflow.Context) {
	for _, f := range s.reports {
		if err := f.Get(ctx, nil); err != nil {
			s.log.Warn("progress report to parent not delivered", logging.Err(err))
		}
	}
	s.reports = nil
}

func (s *shipping) finish(ctx workflow.Context, outcome, reason string) (contracts.ShippingReport, error) {
	s.settlePending()
	s.rep.Outcome, s.rep.Reason = outcome, reason
	s.flush(ctx)
	s.log.Info("shipping ended", "outcome", outcome, "reason", reason)
	return s.rep, nil
}
