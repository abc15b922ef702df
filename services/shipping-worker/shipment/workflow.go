package shipment

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	v0 "github.com/orderflow/orderflow/services/shipping-worker/shipment/v0"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
	stepx "github.com/orderflow/orderflow/shared/step"
)

// Defaults used when the parent leaves a setting at zero.
const (
	DefaultStepTimeout         = 250 * time.Millisecond
	DefaultMaxDispatchAttempts = 10
)

// Workflow versions; see OrderWorkflow's.
const (
	changeDurable  = "durable-activities"
	versionDurable = 1
)

// acts is a nil receiver: activities are named by method, and the worker's
// registry holds the real *Activities.
var acts *Activities

// shipping is the state of one ShippingWorkflow run.
type shipping struct {
	ctx  workflow.Context
	in   contracts.ShippingInput
	rep  contracts.ShippingReport
	log  log.Logger
	seen map[string]bool

	// dispatching is true while the dispatch step runs: a cancel or address
	// change then waits (pending) until the attempt in flight has settled,
	// because only its outcome says whether the carrier took the package.
	dispatching bool
	dispatched  bool
	cancelled   bool
	pending     []forwarded

	reports []workflow.Future
}

// ShippingWorkflow prepares the package, dispatches the carrier and marks
// the order shipped, for one shipping attempt of its parent OrderWorkflow.
// It decides forwarded cancel and update-address signals itself, because
// dispatch is the point of no return and only the child knows whether it
// has happened; it reports progress and decisions to the parent, which
// publishes the events. A dispatch that fails for good is signalled to the
// parent (dispatch-failed) and ends the child. Given a parcel an earlier
// attempt dispatched, it only marks the order shipped.
func ShippingWorkflow(ctx workflow.Context, in contracts.ShippingInput) (contracts.ShippingReport, error) {
	if workflow.GetVersion(ctx, changeDurable, workflow.DefaultVersion, versionDurable) == workflow.DefaultVersion {
		return v0.ShippingWorkflow(ctx, in)
	}
	if in.StepTimeout <= 0 {
		in.StepTimeout = DefaultStepTimeout
	}
	if in.MaxDispatchAttempts <= 0 {
		in.MaxDispatchAttempts = DefaultMaxDispatchAttempts
	}
	in.Retry = stepx.WithDefaults(in.Retry)
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
	s.log.Info("shipping started", "shipping_attempt", in.Attempt, "resuming", in.Dispatched != nil)

	if p := in.Dispatched; p != nil {
		s.dispatched = true
		s.rep.DispatchedAt, s.rep.Carrier, s.rep.TrackingNumber = &p.DispatchedAt, p.Carrier, p.TrackingNumber
	} else if rep, done, err := s.prepareAndDispatch(); done || err != nil {
		return rep, err
	}

	// Mark shipped: past the point of no return, nothing stops it.
	var res StepResult
	if err := s.run(domain.StepMarkShipped, 0, acts.MarkShipped, nil, &res, &res.Attempt); err != nil {
		return s.rep, err
	}
	now := workflow.Now(ctx)
	s.rep.ShippedAt = &now
	return s.finish(ctx, contracts.ShippingShipped, "")
}

// prepareAndDispatch runs the steps up to the point of no return; done
// means the child has ended (cancelled or dispatch failed) with rep.
func (s *shipping) prepareAndDispatch() (rep contracts.ShippingReport, done bool, err error) {
	ctx := s.ctx
	// Prepare: a cancel or address change is accepted at once.
	var res StepResult
	if err := s.run(domain.StepPreparePackage, 0, acts.PreparePackage, func() bool { return s.cancelled }, &res, &res.Attempt); err != nil {
		if errors.Is(err, stepx.ErrCancelled) {
			rep, err := s.finish(ctx, contracts.ShippingCancelled, "cancelled before the package was prepared")
			return rep, true, err
		}
		return s.rep, true, err
	}
	now := workflow.Now(ctx)
	s.rep.PreparedAt = &now
	s.log.Info("package prepared")
	// Not flushed: it reaches the parent with the next workflow task, at
	// the latest with dispatch, and a round trip per order is saved.
	s.report()
	if s.cancelled {
		rep, err := s.finish(ctx, contracts.ShippingCancelled, "cancelled before dispatch")
		return rep, true, err
	}

	// Dispatch: a signal arriving now stops further attempts; the attempt
	// in flight settles, and its outcome decides the signal.
	for {
		s.dispatching = true
		var d Dispatch
		err := s.run(domain.StepDispatchCarrier, s.in.MaxDispatchAttempts, acts.DispatchCarrier,
			func() bool { return len(s.pending) > 0 }, &d, &d.Attempt)
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
			return s.rep, false, nil
		case errors.Is(err, stepx.ErrCancelled):
			// The carrier did not take the package: pending signals apply.
			s.settlePending()
			s.report()
			if s.cancelled {
				rep, err := s.finish(ctx, contracts.ShippingCancelled, "cancelled before dispatch")
				return rep, true, err
			}
			continue // an address change: dispatch to the new address
		case ctx.Err() != nil:
			return s.rep, true, err
		default:
			s.settlePending()
			if s.cancelled {
				rep, err := s.finish(ctx, contracts.ShippingCancelled, "cancelled before dispatch")
				return rep, true, err
			}
			reason := stepx.Message(err)
			s.log.Warn("dispatch failed for good", logging.KeyStep, domain.StepDispatchCarrier, logging.Err(err))
			f := workflow.SignalExternalWorkflow(ctx, s.in.ParentWorkflowID, "", contracts.SignalDispatchFailed,
				contracts.DispatchFailedPayload{Attempt: s.in.Attempt, Reason: reason})
			if err := f.Get(ctx, nil); err != nil {
				s.log.Warn("signal dispatch-failed to parent", logging.Err(err))
			}
			rep, err := s.finish(ctx, contracts.ShippingDispatchFailed, reason)
			return rep, true, err
		}
	}
}

// run executes one step; attempt points into result at the attempt number
// the activity returns.
func (s *shipping) run(name domain.Step, maxAttempts int, activity any, cancel func() bool, result any, attempt *int) error {
	arg := func(round int) any {
		return StepInput{OrderID: s.in.OrderID, ShippingAttempt: s.in.Attempt, Address: s.rep.Address, Items: s.in.Items, Round: round}
	}
	err := stepx.Run(s.ctx, stepx.Options{Name: name, Timeout: s.in.StepTimeout, Retry: s.in.Retry, MaxAttempts: maxAttempts},
		stepx.Hooks{
			Cancel: cancel,
			OverBudget: func(err error) {
				s.recordError(name, "over its "+s.in.Retry.Budget.String()+" budget: "+stepx.Message(err))
				s.report()
			},
		}, activity, arg, result)
	if err == nil {
		s.rep.Attempts[name] += *attempt
		return nil
	}
	if stepx.MaxAttemptsReached(err) {
		s.rep.Attempts[name] += maxAttempts
	} else {
		s.rep.Attempts[name]++
	}
	if !errors.Is(err, stepx.ErrCancelled) {
		s.recordError(name, stepx.Message(err))
	}
	return err
}

func (s *shipping) recordError(name domain.Step, msg string) {
	s.rep.Errors = contracts.AppendRecentErrors(s.rep.Errors,
		contracts.StepError{Step: name, Attempt: s.rep.Attempts[name], Error: msg, At: workflow.Now(s.ctx)})
}

func (s *shipping) finish(ctx workflow.Context, outcome, reason string) (contracts.ShippingReport, error) {
	s.settlePending()
	s.rep.Outcome, s.rep.Reason = outcome, reason
	s.flush(ctx)
	s.log.Info("shipping ended", "outcome", outcome, "reason", reason)
	return s.rep, nil
}
