package v0

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/step/v0loop"
)

// shippingSteps are the child's steps, in order.
var shippingSteps = []domain.Step{domain.StepPreparePackage, domain.StepDispatchCarrier, domain.StepMarkShipped}

// maxSignalRecords bounds OrderStatus.Signals so a client cannot grow the
// status (and every event snapshot) without limit.
const maxSignalRecords = 50

// order is the state of one OrderWorkflow run. Workflow code is single
// threaded (coroutines switch only when blocked), so the signal and
// publisher goroutines share it without locks.
type order struct {
	ctx workflow.Context
	set Settings
	in  contracts.OrderInput
	st  contracts.OrderStatus
	log log.Logger

	seq    int64
	outbox []contracts.Event

	seen       map[string]bool
	anonSignal int
	approved   bool
	approvedBy string
	cancel     *contracts.SignalPayload // accepted cancel not yet acted on
	charging   bool                     // a charge was attempted: cancel must refund

	// shipping
	child          *child
	shipBase       map[domain.Step]int
	reportSeq      int
	errSeen        map[string]bool
	forwarded      map[string]forwardedSignal
	forwardOrder   []string // command IDs in arrival order: maps iterate randomly
	dispatchFailed map[int]bool
}

type child struct {
	attempt int
	fut     workflow.ChildWorkflowFuture
	started bool
	pending []forwardedSignal
}

type forwardedSignal struct {
	signal  string
	payload contracts.SignalPayload
}

// errCancelled ends run when the order was cancelled (not a failure of the
// workflow: the order reached a terminal state).
var errCancelled = errors.New("order cancelled")

// OrderWorkflow runs one order from receipt to a terminal state (shipped,
// cancelled or failed). Every transition publishes one event with the
// order's snapshot; the status query returns the same snapshot live.
func OrderWorkflow(ctx workflow.Context, in contracts.OrderInput, settings Settings) (contracts.OrderStatus, error) {
	// A cancellation requested through Temporal (UI, CLI) is handled like
	// the cancel signal, with the same rules and compensation, so the order
	// still ends in a terminal state with its events: the lifecycle runs on
	// a context the request does not cancel.
	requested := ctx
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	var set Settings
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return settings }).Get(&set); err != nil {
		return contracts.OrderStatus{}, fmt.Errorf("record settings: %w", err)
	}
	info := workflow.GetInfo(ctx)
	now := workflow.Now(ctx)
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
			UpdatedAt:  now,
		},
		log:            log.With(workflow.GetLogger(ctx), logging.KeyOrderID, in.OrderID, logging.KeyWorkflowID, info.WorkflowExecution.ID),
		seen:           map[string]bool{},
		forwarded:      map[string]forwardedSignal{},
		dispatchFailed: map[int]bool{},
	}
	if err := workflow.SetQueryHandler(ctx, contracts.QueryStatus, func() (contracts.OrderStatus, error) { return o.st, nil }); err != nil {
		return o.st, fmt.Errorf("register status query: %w", err)
	}
	workflow.Go(ctx, o.receiveSignals)
	workflow.Go(ctx, o.publishEvents)
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
	if werr := workflow.Await(ctx, func() bool { return len(o.outbox) == 0 }); werr != nil && err == nil {
		err = werr
	}
	o.log.Info("order finished", "state", o.st.State, "failure_reason", o.st.FailureReason)
	return o.st, err
}

func (o *order) run() error {
	ctx := o.ctx
	stepIn := func(attempt int) any { return StepInput{OrderID: o.in.OrderID, Attempt: attempt, Items: o.in.Items} }

	// 1. Receive.
	if err := o.step(domain.StepReceive, "ReceiveOrder", stepIn, nil); err != nil {
		return o.afterStepError(err)
	}
	o.transition(domain.StateReceived, contracts.EventReceived, nil)

	// 2. Validate: invalid items fail the order for good.
	if err := o.step(domain.StepValidate, "ValidateOrder", stepIn, nil); err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == ErrTypeInvalidOrder {
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
	o.st.Step = domain.StepManualReview
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

	// 4. Charge. From the first attempt on, a cancel must refund.
	o.charging = true
	var pay PaymentResult
	payIn := func(attempt int) any {
		return PaymentInput{OrderID: o.in.OrderID, PaymentID: o.in.PaymentID, AmountCents: o.st.Payment.AmountCents, Attempt: attempt}
	}
	if err := o.step(domain.StepChargePayment, "ChargePayment", payIn, &pay); err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.NonRetryable() {
			// The payment belongs to another order: nothing of ours to refund.
			o.charging = false
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
	for attempt := 1; attempt <= o.set.MaxShippingAttempts; attempt++ {
		rep, err := o.ship(attempt)
		if err != nil {
			return err
		}
		switch rep.Outcome {
		case contracts.ShippingShipped:
			o.st.Step = domain.StepMarkShipped
			now := workflow.Now(ctx)
			o.st.CompletedAt = &now
			o.transition(domain.StateShipped, contracts.EventShipped, nil)
			return nil
		case contracts.ShippingCancelled:
			if o.cancel == nil {
				o.cancel = &contracts.SignalPayload{Reason: rep.Reason}
			}
			return o.cancelOrder()
		default:
			o.noteDispatchFailed(attempt, rep.Reason)
			if o.cancel != nil {
				return o.cancelOrder()
			}
			o.log.Warn("shipping attempt failed", "shipping_attempt", attempt, "reason", rep.Reason)
		}
	}
	return o.fail(fmt.Sprintf("dispatch failed in %d shipping attempts: %s", o.set.MaxShippingAttempts, o.st.Shipping.LastFailure))
}

// step runs one business step; a cancel stops it between attempts, except
// the refund, which is what a cancel or failure needs to finish.
func (o *order) step(name domain.Step, activity any, arg func(int) any, result any) error {
	o.st.Step = name
	_, err := v0loop.Run(o.ctx, v0loop.Step{
		Name:         name,
		Timeout:      o.set.StepTimeout,
		FirstAttempt: o.st.Attempts[name] + 1,
		Stop:         func() bool { return o.cancel != nil && name != domain.StepRefundPayment },
		OnAttempt:    func(attempt int) { o.st.Attempts[name] = attempt },
		OnError:      func(attempt int, err error) { o.recordError(name, attempt, v0loop.Message(err), workflow.Now(o.ctx)) },
		Logger:       o.log,
	}, activity, arg, result)
	return err
}

func (o *order) afterStepError(err error) error {
	if errors.Is(err, v0loop.ErrStopped) {
		return o.cancelOrder()
	}
	return err
}

func (o *order) recordError(step domain.Step, attempt int, msg string, at time.Time) {
	o.st.RecentErrors = append(o.st.RecentErrors, contracts.StepError{Step: step, Attempt: attempt, Error: msg, At: at})
	if n := len(o.st.RecentErrors); n > contracts.MaxRecentErrors {
		o.st.RecentErrors = o.st.RecentErrors[n-contracts.MaxRecentErrors:]
	}
}

// refund compensates a charge. It is never stopped: it is what a cancel or
// failure needs to finish.
func (o *order) refund() error {
	if !o.charging {
		return nil
	}
	var pay PaymentResult
	err := o.step(domain.StepRefundPayment, "RefundPayment", func(attempt int) any {
		return PaymentInput{OrderID: o.in.OrderID, PaymentID: o.in.PaymentID, AmountCents: o.st.Payment.AmountCents, Attempt: attempt}
	}, &pay)
	if err != nil {
		return err
	}
	o.charging = false
	if pay.Status != PaymentStatusRefunded {
		o.log.Info("nothing to refund: the payment was never charged")
		return nil
	}
	o.st.Payment.Status, o.st.Payment.RefundedAt = PaymentStatusRefunded, pay.RefundedAt
	if pay.ChargedAt != nil && o.st.Payment.ChargedAt == nil {
		o.st.Payment.ChargedAt = pay.ChargedAt
	}
	o.emit(contracts.EventPaymentRefunded, nil)
	return nil
}

func (o *order) cancelOrder() error {
	reason := "cancelled"
	if o.cancel != nil && o.cancel.Reason != "" {
		reason = "cancelled: " + o.cancel.Reason
	}
	o.log.Info("cancelling order", logging.KeyStep, o.st.Step, "reason", reason)
	if err := o.end(domain.StateCancelled, contracts.EventCancelled, reason); err != nil {
		return err
	}
	return errCancelled
}

func (o *order) fail(reason string) error {
	o.log.Warn("order failed", logging.KeyStep, o.st.Step, "reason", reason)
	return o.end(domain.StateFailed, contracts.EventFailed, reason)
}

// end compensates (refunds a charge) and moves the order to a terminal
// state with its reason.
func (o *order) end(state domain.OrderState, t contracts.EventType, reason string) error {
	if err := o.refund(); err != nil {
		return err
	}
	o.st.FailureReason = reason
	now := workflow.Now(o.ctx)
	o.st.CompletedAt = &now
	o.transition(state, t, map[string]string{"reason": reason})
	return nil
}

// transition moves the order to state and publishes its event.
func (o *order) transition(state domain.OrderState, t contracts.EventType, data any) {
	o.log.Info("order transition", "from", o.st.State, "to", state, "event", t, logging.KeyStep, o.st.Step)
	o.st.State = state
	o.emit(t, data)
}

// emit queues one event with the next sequence number and a copy of the
// snapshot. Only this workflow assigns seq, so it is gap-free per order.
func (o *order) emit(t contracts.EventType, data any) {
	now := workflow.Now(o.ctx)
	o.st.UpdatedAt = now
	o.seq++
	e := contracts.Event{
		ID:            contracts.EventID(o.in.OrderID, o.seq),
		SchemaVersion: contracts.EventSchemaVersion,
		Type:          t,
		OrderID:       o.in.OrderID,
		Seq:           o.seq,
		Time:          now,
		WorkflowID:    o.st.WorkflowID,
		Order:         snapshot(o.st),
	}
	if data != nil {
		// encoding/json sorts map keys and has no other source of
		// nondeterminism for plain data: workflowcheck flags it only
		// because its reflection cache may allocate.
		b, err := json.Marshal(data) //workflowcheck:ignore
		if err == nil {
			e.Data = b
		}
	}
	o.outbox = append(o.outbox, e)
}

// snapshot deep-copies the status: local activity arguments are passed by
// reference, and the status keeps changing after the event is queued.
func snapshot(s contracts.OrderStatus) contracts.OrderStatus {
	c := s
	c.Attempts = maps.Clone(s.Attempts)
	c.RecentErrors = append([]contracts.StepError{}, s.RecentErrors...)
	c.Items = append([]domain.Item(nil), s.Items...)
	c.Signals = append([]contracts.SignalRecord(nil), s.Signals...)
	if s.Shipping != nil {
		sh := *s.Shipping
		c.Shipping = &sh
	}
	return c
}

// publishEvents publishes queued events one at a time, in seq order, so
// business steps never wait for the broker. The local activity is retried
// by the SDK without limit (backoff up to 5 s): an event may be late when
// NATS is down, never lost, and its ID makes a repeat harmless.
func (o *order) publishEvents(ctx workflow.Context) {
	pctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    100 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Second,
		},
	})
	for {
		if err := workflow.Await(ctx, func() bool { return len(o.outbox) > 0 }); err != nil {
			return
		}
		e := o.outbox[0]
		if err := workflow.ExecuteLocalActivity(pctx, "PublishEvent", e).Get(ctx, nil); err != nil {
			o.log.Error("publish event", logging.KeyEventID, e.ID, logging.Err(err))
			return
		}
		o.outbox = o.outbox[1:]
	}
}

// ship runs one shipping attempt as a child workflow and returns its report.
func (o *order) ship(attempt int) (contracts.ShippingReport, error) {
	ctx := o.ctx
	id := contracts.ShippingWorkflowID(o.in.OrderID, attempt)
	o.shipBase = map[domain.Step]int{}
	for _, s := range shippingSteps {
		o.shipBase[s] = o.st.Attempts[s]
	}
	o.reportSeq, o.errSeen = 0, map[string]bool{}
	last := ""
	if o.st.Shipping != nil {
		last = o.st.Shipping.LastFailure
	}
	o.st.Shipping = &contracts.ShippingInfo{Attempt: attempt, WorkflowID: id, LastFailure: last}
	o.st.Step = domain.StepPreparePackage
	o.transition(domain.StateShipping, contracts.EventShippingStarted, map[string]any{"shipping_attempt": attempt, "workflow_id": id})

	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          id,
		TaskQueue:           o.set.ShippingTaskQueue,
		WorkflowTaskTimeout: workflow.GetInfo(ctx).WorkflowTaskTimeout,
	})
	o.child = &child{attempt: attempt, fut: workflow.ExecuteChildWorkflow(cctx, contracts.WorkflowShipping, contracts.ShippingInput{
		OrderID:             o.in.OrderID,
		ParentWorkflowID:    o.st.WorkflowID,
		Attempt:             attempt,
		Items:               o.in.Items,
		Address:             o.st.Address,
		StepTimeout:         o.set.StepTimeout,
		MaxDispatchAttempts: o.set.MaxDispatchAttempts,
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

// applyReport turns the child's cumulative progress into status and events.
func (o *order) applyReport(rep contracts.ShippingReport) {
	if o.child == nil || rep.Attempt != o.child.attempt || rep.Seq < o.reportSeq {
		return
	}
	o.reportSeq = rep.Seq
	for _, s := range shippingSteps {
		if n := rep.Attempts[s]; n > 0 {
			o.st.Attempts[s] = o.shipBase[s] + n
			o.st.Step = s
		}
	}
	for _, e := range rep.Errors {
		k := string(e.Step) + "#" + strconv.Itoa(e.Attempt)
		if !o.errSeen[k] {
			o.errSeen[k] = true
			o.recordError(e.Step, o.shipBase[e.Step]+e.Attempt, e.Error, e.At)
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
	if rep.DispatchedAt != nil && sh.DispatchedAt == nil {
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
		if outcome == contracts.ShippingShipped {
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
	if o.dispatchFailed[attempt] {
		return
	}
	o.dispatchFailed[attempt] = true
	if o.st.Shipping != nil {
		o.st.Shipping.LastFailure = reason
	}
	o.log.Warn("dispatch failed", "shipping_attempt", attempt, "reason", reason)
	o.emit(contracts.EventDispatchFailed, contracts.DispatchFailedPayload{Attempt: attempt, Reason: reason})
}

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
	// Not waited for: if the child has already ended, the signal fails and
	// the parent settles it from the child's result (settleLeftovers).
	o.child.fut.SignalChildWorkflow(o.ctx, f.signal, f.payload)
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
	o.emit(contracts.EventSignalRejected, map[string]string{"signal": name, "command_id": p.CommandID, "reason": reason})
}
