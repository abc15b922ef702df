package order

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
)

// shippingSteps are the child's steps, in order.
var shippingSteps = []domain.Step{domain.StepPreparePackage, domain.StepDispatchCarrier, domain.StepMarkShipped}

// shipment is the parent's side of the shipping child: the running child,
// the progress it reported, and the signals it was asked to decide.
type shipment struct {
	child          *child
	shipBase       map[domain.Step]int
	reportSeq      int
	errSeen        map[string]bool
	forwarded      map[string]forwardedSignal
	forwardOrder   []string // command IDs in arrival order: maps iterate randomly
	dispatchFailed map[int]bool
	// parcel is what the carrier took, kept across shipping attempts.
	parcel *contracts.Parcel
}

type child struct {
	attempt  int
	fut      workflow.ChildWorkflowFuture
	started  bool
	pending  []forwardedSignal
	progress time.Time         // last report, for the stall check
	outbox   []forwardedSignal // forwarded, not yet sent (serial forward)
	sending  bool              // a coroutine is sending the outbox
}

type forwardedSignal struct {
	signal  string
	payload contracts.SignalPayload
}

func (s *shipment) init() {
	s.forwarded = map[string]forwardedSignal{}
	s.dispatchFailed = map[int]bool{}
}

func (o *order) dispatched() bool { return o.parcel != nil }

// ship runs one shipping attempt as a child workflow and returns its report.
func (o *order) ship(attempt int) (contracts.ShippingReport, error) {
	ctx := o.ctx
	id := contracts.ShippingWorkflowID(o.in.OrderID, attempt)
	o.shipBase = map[domain.Step]int{}
	for _, s := range shippingSteps {
		o.shipBase[s] = o.st.Attempts[s]
	}
	o.reportSeq, o.errSeen = 0, map[string]bool{}
	resuming := o.dispatched()
	if resuming {
		o.st.Shipping.Attempt, o.st.Shipping.WorkflowID = attempt, id
		o.setStep(domain.StepMarkShipped)
	} else {
		last := ""
		if o.st.Shipping != nil {
			last = o.st.Shipping.LastFailure
		}
		o.st.Shipping = &contracts.ShippingInfo{Attempt: attempt, WorkflowID: id, LastFailure: last}
		o.setStep(domain.StepPreparePackage)
		o.transition(domain.StateShipping, contracts.EventShippingStarted, map[string]any{"shipping_attempt": attempt, "workflow_id": id})
	}

	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          id,
		TaskQueue:           o.set.ShippingTaskQueue,
		WorkflowTaskTimeout: workflow.GetInfo(ctx).WorkflowTaskTimeout,
	})
	o.child = &child{attempt: attempt, progress: workflow.Now(ctx), fut: workflow.ExecuteChildWorkflow(cctx, contracts.WorkflowShipping, contracts.ShippingInput{
		OrderID:             o.in.OrderID,
		ParentWorkflowID:    o.st.WorkflowID,
		Attempt:             attempt,
		Items:               o.in.Items,
		Address:             o.st.Address,
		StepTimeout:         o.set.StepTimeout,
		MaxDispatchAttempts: o.set.MaxDispatchAttempts,
		Retry:               o.set.Retry,
		Dispatched:          o.parcel,
	})}
	defer func() { o.child = nil }()
	if err := o.child.fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		o.log.Warn("shipping workflow did not start", "shipping_attempt", attempt, logging.Err(err))
		return contracts.ShippingReport{Attempt: attempt, Outcome: contracts.ShippingDispatchFailed, Reason: "shipping workflow did not start: " + err.Error()}, nil
	}
	o.child.started = true
	for _, f := range o.child.pending {
		o.forward(f)
	}
	o.child.pending = nil

	if err := o.watchChild(); err != nil {
		return contracts.ShippingReport{}, err
	}
	var rep contracts.ShippingReport
	if err := o.child.fut.Get(ctx, &rep); err != nil {
		if ctx.Err() != nil {
			return rep, err
		}
		o.log.Warn("shipping workflow failed", "shipping_attempt", attempt, logging.Err(err))
		rep = contracts.ShippingReport{Attempt: attempt, Outcome: contracts.ShippingDispatchFailed, Reason: "shipping workflow failed: " + err.Error()}
	}
	// The final report is cumulative: it settles whatever progress signals
	// were not handled yet.
	o.applyReport(rep)
	o.settleLeftovers(rep.Outcome)
	return rep, nil
}

// watchChild waits for the child to end. When it makes no progress for
// ShippingStallAfter (no shipping worker, a step far over its budget), the
// order's status says so until progress resumes. A timer checks the age of
// the last report once per period, so a healthy child costs one timer.
func (o *order) watchChild() error {
	ch := o.child
	for !ch.fut.IsReady() {
		if wait := o.set.ShippingStallAfter - workflow.Now(o.ctx).Sub(ch.progress); wait > 0 {
			if _, err := workflow.AwaitWithTimeout(o.ctx, wait, ch.fut.IsReady); err != nil {
				return err
			}
			continue
		}
		o.waitFor("shipping workflow " + o.st.Shipping.WorkflowID + ": no progress for over " +
			o.set.ShippingStallAfter.String() + " (is a shipping worker running?)")
		since := ch.progress
		if err := workflow.Await(o.ctx, func() bool { return ch.fut.IsReady() || ch.progress != since }); err != nil {
			return err
		}
		o.waitFor("")
	}
	return nil
}

// applyReport turns the child's cumulative progress into status and events.
func (o *order) applyReport(rep contracts.ShippingReport) {
	if o.child == nil || rep.Attempt != o.child.attempt || rep.Seq < o.reportSeq {
		return
	}
	o.child.progress = workflow.Now(o.ctx)
	o.reportSeq = rep.Seq
	for _, s := range shippingSteps {
		if n := rep.Attempts[s]; n > 0 {
			o.st.Attempts[s] = o.shipBase[s] + n
			o.setStep(s)
		}
	}
	for _, e := range rep.Errors {
		k := string(e.Step) + "#" + strconv.Itoa(e.Attempt)
		if !o.errSeen[k] {
			o.errSeen[k] = true
			e.Attempt += o.shipBase[e.Step]
			o.st.RecentErrors = contracts.AppendRecentErrors(o.st.RecentErrors, e)
		}
	}
	for _, d := range rep.Decisions {
		f, ok := o.forwarded[d.CommandID]
		if !ok {
			continue
		}
		delete(o.forwarded, d.CommandID)
		o.decided(f, d.Accepted, d.Reason)
	}
	sh := o.st.Shipping
	if rep.PreparedAt != nil && sh.PreparedAt == nil {
		sh.PreparedAt = rep.PreparedAt
		o.emit(contracts.EventPackagePrepared, nil)
	}
	if rep.DispatchedAt != nil && o.parcel == nil {
		o.parcel = &contracts.Parcel{Carrier: rep.Carrier, TrackingNumber: rep.TrackingNumber, DispatchedAt: *rep.DispatchedAt}
		sh.DispatchedAt, sh.Carrier, sh.TrackingNumber = rep.DispatchedAt, rep.Carrier, rep.TrackingNumber
		o.transition(domain.StateDispatched, contracts.EventDispatched, map[string]string{"carrier": rep.Carrier, "tracking_number": rep.TrackingNumber})
	}
}

// settleLeftovers decides forwarded signals the child ended without
// deciding (it had already finished when they reached it).
func (o *order) settleLeftovers(outcome string) {
	for _, id := range o.forwardOrder {
		f, ok := o.forwarded[id]
		if !ok {
			continue
		}
		if outcome == contracts.ShippingShipped || o.dispatched() {
			o.decided(f, false, "carrier already dispatched")
		} else {
			o.decided(f, true, f.payload.Reason)
		}
	}
	clear(o.forwarded)
	o.forwardOrder = nil
}

// decided records the verdict on a signal and applies an accepted one.
func (o *order) decided(f forwardedSignal, accepted bool, reason string) {
	if !accepted {
		o.reject(f.signal, f.payload, reason)
		return
	}
	switch f.signal {
	case contracts.SignalCancel:
		o.record(f.signal, true, f.payload.Reason)
		if o.cancel == nil {
			p := f.payload
			o.cancel = &p
		}
	case contracts.SignalUpdateAddress:
		o.st.Address = *f.payload.Address
		o.record(f.signal, true, "")
		o.emit(contracts.EventAddressUpdated, f.payload.Address)
	}
}

func (o *order) noteDispatchFailed(attempt int, reason string) {
	if o.dispatchFailed[attempt] || o.dispatched() {
		return
	}
	o.dispatchFailed[attempt] = true
	if o.st.Shipping != nil {
		o.st.Shipping.LastFailure = reason
	}
	o.log.Warn("dispatch failed", "shipping_attempt", attempt, "reason", reason)
	o.emit(contracts.EventDispatchFailed, contracts.DispatchFailedPayload{Attempt: attempt, Reason: reason})
}
