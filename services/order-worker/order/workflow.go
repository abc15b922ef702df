package order

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	v0 "github.com/orderflow/orderflow/services/order-worker/order/v0"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
	stepx "github.com/orderflow/orderflow/shared/step"
)

// Workflow versions (workflow.GetVersion). A change that alters the
// commands of a running order adds a version here and keeps the old path.
const (
	// changeDurable marks orders whose steps and events are Temporal
	// activities. Histories without the marker run v0 (local activities).
	changeDurable  = "durable-activities"
	versionDurable = 1
	// changeSerialForward marks orders that forward signals to the shipping
	// child one at a time (child.go); before it, two forwarded signals could
	// reach the child in either order.
	changeSerialForward  = "serial-forward"
	versionSerialForward = 1
	// CurrentVersion names the testdata directory new histories go to.
	CurrentVersion = versionDurable
)

// maxSignalRecords bounds OrderStatus.Signals so a client cannot grow the
// status (and every event snapshot) without limit.
const maxSignalRecords = 50

// acts is a nil receiver: activities are named by method, and the worker's
// registry holds the real *Activities.
var acts *Activities

// Workflows holds the worker's settings; OrderWorkflow records them at start.
type Workflows struct {
	Settings Settings
}

// order is the state of one OrderWorkflow run. Workflow code is single
// threaded (coroutines switch only when blocked), so the signal and
// publisher coroutines share it without locks.
type order struct {
	ctx workflow.Context
	set Settings
	in  contracts.OrderInput
	st  contracts.OrderStatus
	log log.Logger

	outbox
	visibility

	seen       map[string]bool
	anonSignal int
	approved   bool
	approvedBy string
	cancel     *contracts.SignalPayload // accepted cancel not yet acted on
	// compensations run in reverse order when the order ends cancelled or
	// failed; a step registers its own before it is scheduled.
	compensations []func() error

	shipment
}

// errCancelled ends run when the order was cancelled (not a failure of the
// workflow: the order reached a terminal state).
var errCancelled = errors.New("order cancelled")

// OrderWorkflow runs one order from receipt to a terminal state: shipped and
// cancelled complete the workflow, failed fails it (contracts.ErrTypeOrderFailed, the
// final status in its details). Every transition publishes one event with
// the order's snapshot; the status query returns the same snapshot live.
func (w *Workflows) OrderWorkflow(ctx workflow.Context, in contracts.OrderInput) (contracts.OrderStatus, error) {
	if workflow.GetVersion(ctx, changeDurable, workflow.DefaultVersion, versionDurable) == workflow.DefaultVersion {
		return v0.OrderWorkflow(ctx, in, w.Settings.v0())
	}
	// A cancellation requested through Temporal (UI, CLI) is handled like
	// the cancel signal, with the same rules and compensation, so the order
	// still ends in a terminal state with its events: the lifecycle runs on
	// a context the request does not cancel.
	requested := ctx
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	var set Settings
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return w.Settings }).Get(&set); err != nil {
		return contracts.OrderStatus{}, fmt.Errorf("record settings: %w", err)
	}
	set.Retry = stepx.WithDefaults(set.Retry)
	info := workflow.GetInfo(ctx)
	if in.AcceptedAt.IsZero() {
		in.AcceptedAt = info.WorkflowStartTime
	}
	o := &order{
		ctx: ctx,
		set: set,
		in:  in,
		st: contracts.OrderStatus{
			OrderID:      in.OrderID,
			WorkflowID:   info.WorkflowExecution.ID,
			Owner:        in.Owner,
			State:        domain.StateReceived,
			Step:         domain.StepReceive,
			Attempts:     map[domain.Step]int{},
			RecentErrors: []contracts.StepError{},
			Items:        in.Items,
			Address:      in.Address,
			ManualReview: in.ManualReview,
			Payment: contracts.PaymentInfo{
				PaymentID: in.PaymentID, AmountCents: domain.TotalCents(in.Items), Status: PaymentStatusPending,
			},
			AcceptedAt: in.AcceptedAt,
			UpdatedAt:  workflow.Now(ctx),
		},
		log:  log.With(workflow.GetLogger(ctx), logging.KeyOrderID, in.OrderID, logging.KeyWorkflowID, info.WorkflowExecution.ID),
		seen: map[string]bool{},
	}
	o.shipment.init()
	if err := workflow.SetQueryHandler(ctx, contracts.QueryStatus, func() (contracts.OrderStatus, error) { return o.st, nil }); err != nil {
		return o.st, fmt.Errorf("register status query: %w", err)
	}
	workflow.Go(ctx, o.receiveSignals)
	workflow.Go(ctx, o.publishEvents)
	workflow.Go(ctx, o.upsertSearchAttributes)
	workflow.Go(ctx, func(ctx workflow.Context) {
		requested.Done().Receive(ctx, nil)
		o.onSignal(contracts.SignalCancel, contracts.SignalPayload{
			CommandID: "temporal-cancel-request", Reason: "cancellation requested through Temporal",
		})
	})

	err := o.run()
	if errors.Is(err, errCancelled) {
		err = nil
	}
	// Every event is published before the workflow completes.
	if werr := workflow.Await(ctx, func() bool { return o.outbox.empty() }); werr != nil && err == nil {
		err = werr
	}
	o.log.Info("order finished", "state", o.st.State, "failure_reason", o.st.FailureReason)
	if err == nil && o.st.State == domain.StateFailed {
		err = temporal.NewApplicationErrorWithOptions(o.st.FailureReason, contracts.ErrTypeOrderFailed,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{o.st}})
	}
	return o.st, err
}

// run is the business process, step by step.
func (o *order) run() error {
	ctx := o.ctx
	stepIn := func(round int) any { return StepInput{OrderID: o.in.OrderID, Items: o.in.Items, Round: round} }

	// 1. Receive.
	var res StepResult
	if err := o.step(domain.StepReceive, acts.ReceiveOrder, stepIn, &res, &res.Attempt); err != nil {
		return o.afterStepError(err)
	}
	o.transition(domain.StateReceived, contracts.EventReceived, nil)

	// 2. Validate: invalid items fail the order for good.
	if err := o.step(domain.StepValidate, acts.ValidateOrder, stepIn, &res, &res.Attempt); err != nil {
		if appErr, ok := stepx.NonRetryable(err); ok && appErr.Type() == ErrTypeInvalidOrder {
			o.st.FailureReason = appErr.Message()
			o.emit(contracts.EventValidationFailed, map[string]string{"reason": appErr.Message()})
			return o.fail(appErr.Message())
		}
		return o.afterStepError(err)
	}
	o.transition(domain.StateValidated, contracts.EventValidated, nil)
	if o.cancel != nil {
		return o.cancelOrder()
	}

	// 3. Manual review.
	o.setStep(domain.StepManualReview)
	o.transition(domain.StateAwaitingApproval, contracts.EventAwaitingApproval, nil)
	if !o.approved && o.cancel == nil {
		window := o.set.AutoApproveAfter
		if o.in.ManualReview {
			window = o.set.ManualReviewDeadline
		}
		ok, err := workflow.AwaitWithTimeout(ctx, window, func() bool { return o.approved || o.cancel != nil })
		if err != nil {
			return err
		}
		switch {
		case o.cancel != nil:
		case !ok && o.in.ManualReview:
			reason := "manual review not approved within " + window.String()
			o.log.Info("manual review expired", logging.KeyStep, domain.StepManualReview)
			o.cancel = &contracts.SignalPayload{Reason: reason}
		case !ok:
			o.approved, o.approvedBy = true, "auto"
		}
	}
	if o.cancel != nil {
		return o.cancelOrder()
	}
	o.transition(domain.StateApproved, contracts.EventApproved, map[string]string{"approved_by": o.approvedBy})

	// 4. Charge. The refund is registered first: a charge attempt may commit
	// even when the step is cancelled or fails, and the refund (or its
	// tombstone) settles that.
	payIn := o.paymentInput
	o.compensations = append(o.compensations, o.refund)
	var pay PaymentResult
	if err := o.step(domain.StepChargePayment, acts.ChargePayment, payIn, &pay, &pay.Attempt); err != nil {
		if appErr, ok := stepx.NonRetryable(err); ok {
			return o.fail("payment refused: " + appErr.Message())
		}
		return o.afterStepError(err)
	}
	o.st.Payment.Status, o.st.Payment.ChargedAt = PaymentStatusCharged, pay.ChargedAt
	o.transition(domain.StatePaid, contracts.EventPaymentCharged, nil)
	if o.cancel != nil {
		return o.cancelOrder()
	}

	// 5-6. Ship, retrying whole shipping attempts when dispatch fails for good.
	failures := 0
	for attempt := 1; ; attempt++ {
		rep, err := o.ship(attempt)
		if err != nil {
			return err
		}
		switch rep.Outcome {
		case contracts.ShippingShipped:
			o.setStep(domain.StepMarkShipped)
			now := workflow.Now(ctx)
			o.st.CompletedAt = &now
			o.transition(domain.StateShipped, contracts.EventShipped, nil)
			return nil
		case contracts.ShippingCancelled:
			if o.cancel == nil {
				o.cancel = &contracts.SignalPayload{Reason: rep.Reason}
			}
			return o.cancelOrder()
		}
		if o.dispatched() {
			// The parcel is with the carrier: the next attempt only marks
			// it shipped, it never dispatches another. Not a dispatch
			// failure, so not bounded by MaxShippingAttempts; spaced out so
			// a child failing again and again grows history slowly.
			delay := min(time.Second<<min(attempt, 6), time.Minute)
			o.log.Warn("shipping ended after dispatch; resuming", "shipping_attempt", attempt, "reason", rep.Reason, "delay", delay)
			o.waitFor("shipping attempt " + strconv.Itoa(attempt) + " ended after dispatch (" + rep.Reason + "); resuming")
			if err := workflow.Sleep(ctx, delay); err != nil {
				return err
			}
			continue
		}
		o.noteDispatchFailed(attempt, rep.Reason)
		if o.cancel != nil {
			return o.cancelOrder()
		}
		if failures++; failures >= o.set.MaxShippingAttempts {
			return o.fail(fmt.Sprintf("dispatch failed in %d shipping attempts: %s", failures, o.st.Shipping.LastFailure))
		}
		o.log.Warn("shipping attempt failed", "shipping_attempt", attempt, "reason", rep.Reason)
	}
}

// step runs one business step as an activity. A cancel stops it (the
// attempt in flight settles first), except the refund, which is what a
// cancel or failure needs to finish. attempt points into result at the
// attempt number the activity returns.
func (o *order) step(name domain.Step, activity any, arg func(round int) any, result any, attempt *int) error {
	o.setStep(name)
	err := stepx.Run(o.ctx, stepx.Options{Name: name, Timeout: o.set.StepTimeout, Retry: o.set.Retry}, stepx.Hooks{
		Cancel: func() bool { return o.cancel != nil && name != domain.StepRefundPayment },
		OverBudget: func(err error) {
			o.recordError(name, o.st.Attempts[name], "over its "+o.set.Retry.Budget.String()+" budget: "+stepx.Message(err))
			o.waitFor(fmt.Sprintf("%s: retrying for over %s, last error: %s", name, o.set.Retry.Budget, stepx.Message(err)))
		},
	}, activity, arg, result)
	o.waitFor("")
	if err == nil {
		o.st.Attempts[name] += *attempt
		return nil
	}
	o.st.Attempts[name]++
	if !errors.Is(err, stepx.ErrCancelled) {
		o.recordError(name, o.st.Attempts[name], stepx.Message(err))
	}
	return err
}

func (o *order) afterStepError(err error) error {
	if errors.Is(err, stepx.ErrCancelled) {
		return o.cancelOrder()
	}
	if appErr, ok := stepx.NonRetryable(err); ok {
		return o.fail(string(o.st.Step) + " failed for good: " + appErr.Message())
	}
	return err
}

func (o *order) recordError(step domain.Step, attempt int, msg string) {
	o.st.RecentErrors = contracts.AppendRecentErrors(o.st.RecentErrors,
		contracts.StepError{Step: step, Attempt: attempt, Error: msg, At: workflow.Now(o.ctx)})
}

// waitFor sets what the order is waiting for ("" when it moves again).
func (o *order) waitFor(what string) {
	if o.st.WaitingFor == what {
		return
	}
	if what != "" {
		o.log.Warn("order waiting", "waiting_for", what)
	}
	o.st.WaitingFor = what
	o.visible()
}

// refund compensates a charge. It is never stopped, and retried until the
// database answers: a cancel or failure needs it to finish.
func (o *order) refund() error {
	var pay PaymentResult
	if err := o.step(domain.StepRefundPayment, acts.RefundPayment, o.paymentInput, &pay, &pay.Attempt); err != nil {
		return err
	}
	switch pay.Status {
	case PaymentStatusRefunded:
		o.st.Payment.Status, o.st.Payment.RefundedAt = PaymentStatusRefunded, pay.RefundedAt
		if pay.ChargedAt != nil && o.st.Payment.ChargedAt == nil {
			o.st.Payment.ChargedAt = pay.ChargedAt
		}
		o.emit(contracts.EventPaymentRefunded, nil)
	case PaymentStatusVoided:
		o.log.Info("nothing to refund: no charge committed; the payment is voided")
		o.st.Payment.Status = PaymentStatusVoided
	default:
		o.log.Info("nothing to refund: the payment_id belongs to another order")
	}
	return nil
}

func (o *order) paymentInput(round int) any {
	return PaymentInput{OrderID: o.in.OrderID, PaymentID: o.in.PaymentID, AmountCents: o.st.Payment.AmountCents, Round: round}
}

func (o *order) cancelOrder() error {
	reason := "cancelled"
	if o.cancel != nil && o.cancel.Reason != "" {
		reason = "cancelled: " + o.cancel.Reason
	}
	o.log.Info("cancelling order", logging.KeyStep, o.st.Step, "reason", reason)
	o.end(domain.StateCancelled, contracts.EventCancelled, reason)
	return errCancelled
}

func (o *order) fail(reason string) error {
	o.log.Warn("order failed", logging.KeyStep, o.st.Step, "reason", reason)
	o.end(domain.StateFailed, contracts.EventFailed, reason)
	return nil
}

// end runs the compensations (newest first) and moves the order to its
// terminal state with the reason. A compensation that cannot finish is
// named in the reason: the order still ends, with its terminal event.
func (o *order) end(state domain.OrderState, t contracts.EventType, reason string) {
	for i := len(o.compensations) - 1; i >= 0; i-- {
		if err := o.compensations[i](); err != nil {
			o.log.Error("compensation failed", logging.Err(err))
			reason += "; compensation failed: " + stepx.Message(err)
		}
	}
	o.compensations = nil
	o.st.FailureReason = reason
	now := workflow.Now(o.ctx)
	o.st.CompletedAt = &now
	o.transition(state, t, map[string]string{"reason": reason})
}

// transition moves the order to state and publishes its event.
func (o *order) transition(state domain.OrderState, t contracts.EventType, data any) {
	o.log.Info("order transition", "from", o.st.State, "to", state, "event", t, logging.KeyStep, o.st.Step)
	o.st.State = state
	o.emit(t, data)
	o.visible()
}

// setStep records the step the order is at.
func (o *order) setStep(s domain.Step) {
	o.st.Step = s
	o.visible()
}
