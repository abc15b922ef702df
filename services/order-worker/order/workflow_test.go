package order

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	shipping "github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/faults"
)

// Faults stay on in every workflow test, with a fixed seed so each run takes
// the same path. Attempts fail but never hang here: the SDK's test
// environment does not retry an activity that timed out (a real server
// does), so hangs at the original rates are exercised by the integration,
// replay and crash tests against a real Temporal server.
var testFaults = faults.Config{FailRate: 0.5, Seed: 20260101}

var testSettings = Settings{
	AutoApproveAfter:     500 * time.Millisecond,
	ManualReviewDeadline: time.Hour,
	// Short hangs keep the tests quick; the path is the same as at 250 ms.
	StepTimeout:         100 * time.Millisecond,
	MaxDispatchAttempts: 4,
	MaxShippingAttempts: 2,
	ShippingTaskQueue:   "shipping-test",
}

type wfTest struct {
	t       *testing.T
	infra   infra
	env     *testsuite.TestWorkflowEnvironment
	carrier *testCarrier

	mu sync.Mutex
	// onStart hooks run when the named activity starts, until one returns
	// true; they signal the workflow at a precise point.
	onStart map[string]func(args converter.EncodedValues) bool
}

func newWFTest(t *testing.T) *wfTest {
	inf := newInfra(t)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(inf.log))
	w := &wfTest{t: t, infra: inf, env: suite.NewTestWorkflowEnvironment(), carrier: &testCarrier{failZips: map[string]int{zipFailOnce: 1, zipFailAlways: 99}},
		onStart: map[string]func(converter.EncodedValues) bool{}}
	inj := faults.New(testFaults)
	Register(w.env, testSettings, &Activities{Pool: w.infra.Pool, JS: w.infra.JS, Faults: inj, Log: w.infra.log})
	shipping.Register(w.env, &shipping.Activities{Faults: inj, Carrier: w.carrier, Log: w.infra.log})
	w.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		w.mu.Lock()
		f := w.onStart[info.ActivityType.Name]
		w.mu.Unlock()
		if f != nil && f(args) {
			w.mu.Lock()
			delete(w.onStart, info.ActivityType.Name)
			w.mu.Unlock()
		}
	})
	return w
}

func (w *wfTest) signal(name string, p contracts.SignalPayload) func() {
	return func() { w.env.SignalWorkflow(name, p) }
}

// signalOnStart signals once, when the named activity first starts.
func (w *wfTest) signalOnStart(activity, name string, p contracts.SignalPayload) {
	w.onStart[activity] = func(converter.EncodedValues) bool { w.env.SignalWorkflow(name, p); return true }
}

// run executes the workflow and returns its final status and event types.
func (w *wfTest) run(in contracts.OrderInput) (contracts.OrderStatus, []contracts.EventType) {
	w.t.Helper()
	w.env.ExecuteWorkflow(contracts.WorkflowOrder, in)
	if !w.env.IsWorkflowCompleted() {
		w.t.Fatal("workflow did not complete")
	}
	var st contracts.OrderStatus
	if err := w.env.GetWorkflowError(); err != nil {
		// A failed order fails the workflow, its status in the details.
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != contracts.ErrTypeOrderFailed || appErr.Details(&st) != nil || st.State != domain.StateFailed {
			w.t.Fatalf("workflow error: %v", err)
		}
	} else if err := w.env.GetWorkflowResult(&st); err != nil {
		w.t.Fatalf("result: %v", err)
	} else if st.State == domain.StateFailed {
		w.t.Fatal("a failed order completed its workflow instead of failing it")
	}
	if !st.State.Terminal() || st.CompletedAt == nil {
		w.t.Fatalf("final state %s is not terminal (completed_at %v)", st.State, st.CompletedAt)
	}
	evs := w.infra.events(w.t, in.OrderID)
	types := eventTypes(w.t, evs)
	last := evs[len(evs)-1]
	if last.Order.State != st.State || last.Type != contracts.EventType(st.State) {
		w.t.Fatalf("last event %s with state %s, final state %s", last.Type, last.Order.State, st.State)
	}
	return st, types
}

func hasAll(types []contracts.EventType, want ...contracts.EventType) bool {
	for _, t := range want {
		if !slices.Contains(types, t) {
			return false
		}
	}
	return true
}

func TestHappyPathAutoApprovedWithFaults(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("happy")
	st, types := w.run(in)
	want := []contracts.EventType{
		contracts.EventReceived, contracts.EventValidated, contracts.EventAwaitingApproval, contracts.EventApproved,
		contracts.EventPaymentCharged, contracts.EventShippingStarted, contracts.EventPackagePrepared,
		contracts.EventDispatched, contracts.EventShipped,
	}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	if st.State != domain.StateShipped || st.Payment.Status != PaymentStatusCharged || st.Payment.AmountCents != 2500 {
		t.Fatalf("state %s payment %+v", st.State, st.Payment)
	}
	if st.Shipping == nil || st.Shipping.TrackingNumber == "" || st.Shipping.DispatchedAt == nil || st.Shipping.Attempt != 1 {
		t.Fatalf("shipping %+v", st.Shipping)
	}
	total := 0
	for _, s := range []domain.Step{domain.StepReceive, domain.StepValidate, domain.StepChargePayment,
		domain.StepPreparePackage, domain.StepDispatchCarrier, domain.StepMarkShipped} {
		if st.Attempts[s] < 1 {
			t.Fatalf("step %s has no attempt recorded: %v", s, st.Attempts)
		}
		total += st.Attempts[s]
	}
	// With the seeded injector some attempt failed: retries are visible.
	if total <= 6 {
		t.Fatalf("expected retries with faults on: attempts %v", st.Attempts)
	}
	if orderID, status, _, ok := w.infra.payment(t, in.PaymentID); !ok || orderID != in.OrderID || status != "charged" {
		t.Fatalf("payments row: order %q status %q found %v", orderID, status, ok)
	}
	if !strings.Contains(string(w.infra.events(t, in.OrderID)[3].Data), `"auto"`) {
		t.Fatalf("approved event does not say it was automatic")
	}
}

func TestValidationFailureIsPermanent(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("invalid")
	in.Items = nil
	st, types := w.run(in)
	want := []contracts.EventType{contracts.EventReceived, contracts.EventValidationFailed, contracts.EventFailed}
	if !slices.Equal(types, want) || st.State != domain.StateFailed {
		t.Fatalf("state %s events %v, want failed %v", st.State, types, want)
	}
	if !strings.Contains(st.FailureReason, "items") {
		t.Fatalf("failure reason %q does not name items", st.FailureReason)
	}
	if _, _, _, found := w.infra.payment(t, in.PaymentID); found {
		t.Fatal("an invalid order was charged")
	}
}

func TestCancelBeforePayment(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("cancel-early")
	in.ManualReview = true
	w.env.RegisterDelayedCallback(w.signal(contracts.SignalCancel, contracts.SignalPayload{CommandID: "c1", Reason: "changed my mind"}), time.Minute)
	st, types := w.run(in)
	if st.State != domain.StateCancelled || st.Payment.Status != PaymentStatusPending {
		t.Fatalf("state %s payment %s", st.State, st.Payment.Status)
	}
	if hasAll(types, contracts.EventPaymentCharged) || hasAll(types, contracts.EventPaymentRefunded) || types[len(types)-1] != contracts.EventCancelled {
		t.Fatalf("events %v", types)
	}
	if st.FailureReason != "cancelled: changed my mind" || len(st.Signals) != 1 || !st.Signals[0].Accepted {
		t.Fatalf("reason %q signals %+v", st.FailureReason, st.Signals)
	}
	if _, _, _, found := w.infra.payment(t, in.PaymentID); found {
		t.Fatal("a payment was charged for an order cancelled before payment")
	}
}

func TestCancelAfterPaymentRefunds(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("cancel-paid")
	// Cancel as soon as the payment_charged event is being published.
	w.onStart["PublishEvents"] = func(args converter.EncodedValues) bool {
		var batch []contracts.Event
		if err := args.Get(&batch); err != nil || !slices.ContainsFunc(batch, func(e contracts.Event) bool { return e.Type == contracts.EventPaymentCharged }) {
			return false
		}
		w.env.SignalWorkflow(contracts.SignalCancel, contracts.SignalPayload{CommandID: "c1"})
		return true
	}
	st, types := w.run(in)
	if st.State != domain.StateCancelled || st.Payment.Status != PaymentStatusRefunded || st.Payment.RefundedAt == nil {
		t.Fatalf("state %s payment %+v", st.State, st.Payment)
	}
	if !hasAll(types, contracts.EventPaymentCharged, contracts.EventPaymentRefunded, contracts.EventCancelled) || hasAll(types, contracts.EventDispatched) {
		t.Fatalf("events %v", types)
	}
	w.infra.expectPaymentStatus(t, in.PaymentID, PaymentStatusRefunded)
}

func TestCancelDuringShippingStopsChildAndRefunds(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("cancel-shipping")
	w.signalOnStart("PreparePackage", contracts.SignalCancel, contracts.SignalPayload{CommandID: "c1", Reason: "too slow"})
	st, types := w.run(in)
	if st.State != domain.StateCancelled || st.Payment.Status != PaymentStatusRefunded {
		t.Fatalf("state %s payment %s", st.State, st.Payment.Status)
	}
	if st.Shipping == nil || st.Shipping.DispatchedAt != nil || hasAll(types, contracts.EventDispatched) {
		t.Fatalf("shipping %+v events %v", st.Shipping, types)
	}
	if !hasAll(types, contracts.EventShippingStarted, contracts.EventPaymentRefunded) || len(st.Signals) != 1 || !st.Signals[0].Accepted {
		t.Fatalf("events %v signals %+v", types, st.Signals)
	}
	if len(w.carrier.addresses()) != 0 {
		t.Fatal("carrier dispatched a cancelled order")
	}
}

func TestCancelAfterDispatchIsRejected(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("cancel-late")
	w.signalOnStart("MarkShipped", contracts.SignalCancel, contracts.SignalPayload{CommandID: "c1"})
	st, types := w.run(in)
	if st.State != domain.StateShipped || st.Payment.Status != PaymentStatusCharged {
		t.Fatalf("state %s payment %s", st.State, st.Payment.Status)
	}
	if len(st.Signals) != 1 || st.Signals[0].Accepted || st.Signals[0].Reason != "carrier already dispatched" {
		t.Fatalf("signals %+v", st.Signals)
	}
	if !hasAll(types, contracts.EventSignalRejected, contracts.EventShipped) || hasAll(types, contracts.EventCancelled) {
		t.Fatalf("events %v", types)
	}
}

var newAddress = domain.Address{Street: "2 New Rd", City: "Shelbyville", State: "CA", ZipCode: "94111"}

func TestAddressUpdateBeforeDispatchReachesCarrier(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("addr-early")
	w.signalOnStart("PreparePackage", contracts.SignalUpdateAddress, contracts.SignalPayload{CommandID: "a1", Address: &newAddress})
	st, types := w.run(in)
	if st.State != domain.StateShipped || st.Address != newAddress {
		t.Fatalf("state %s address %+v", st.State, st.Address)
	}
	if got := w.carrier.addresses(); len(got) != 1 || got[0] != newAddress {
		t.Fatalf("carrier dispatched to %+v, want the new address", got)
	}
	if !hasAll(types, contracts.EventAddressUpdated) || len(st.Signals) != 1 || !st.Signals[0].Accepted {
		t.Fatalf("events %v signals %+v", types, st.Signals)
	}
}

// Several updates while the child is shipping are forwarded one at a time,
// in the order they arrived, and every one is decided: the carrier gets
// the last.
func TestAddressUpdatesDuringShippingKeepTheirOrder(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("addr-many")
	streets := []string{"1 First St", "2 Second St", "3 Third St"}
	w.onStart["PreparePackage"] = func(converter.EncodedValues) bool {
		for i, street := range streets {
			a := newAddress
			a.Street = street
			w.env.SignalWorkflow(contracts.SignalUpdateAddress, contracts.SignalPayload{CommandID: fmt.Sprintf("a%d", i), Address: &a})
		}
		return true
	}
	st, types := w.run(in)
	if st.State != domain.StateShipped || st.Address.Street != streets[2] {
		t.Fatalf("state %s address %+v", st.State, st.Address)
	}
	if got := w.carrier.addresses(); len(got) != 1 || got[0].Street != streets[2] {
		t.Fatalf("carrier dispatched to %+v, want the last address", got)
	}
	updated := 0
	for _, ty := range types {
		if ty == contracts.EventAddressUpdated {
			updated++
		}
	}
	if updated != len(streets) || len(st.Signals) != len(streets) {
		t.Fatalf("%d address_updated events, signals %+v", updated, st.Signals)
	}
}

func TestAddressUpdateAfterDispatchIsRejected(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("addr-late")
	w.signalOnStart("MarkShipped", contracts.SignalUpdateAddress, contracts.SignalPayload{CommandID: "a1", Address: &newAddress})
	st, types := w.run(in)
	if st.State != domain.StateShipped || st.Address != in.Address {
		t.Fatalf("state %s address %+v", st.State, st.Address)
	}
	if len(st.Signals) != 1 || st.Signals[0].Accepted || !hasAll(types, contracts.EventSignalRejected) || hasAll(types, contracts.EventAddressUpdated) {
		t.Fatalf("signals %+v events %v", st.Signals, types)
	}
}

func TestManualReviewApprovedOnceDespiteDuplicate(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("manual")
	in.ManualReview = true
	approve := contracts.SignalPayload{CommandID: "ap1"}
	w.env.RegisterDelayedCallback(w.signal(contracts.SignalApprove, approve), 30*time.Minute)
	w.env.RegisterDelayedCallback(w.signal(contracts.SignalApprove, approve), 31*time.Minute)
	st, types := w.run(in)
	if st.State != domain.StateShipped || !st.ManualReview {
		t.Fatalf("state %s", st.State)
	}
	if len(st.Signals) != 1 || !st.Signals[0].Accepted || st.Signals[0].Signal != contracts.SignalApprove {
		t.Fatalf("signals %+v: the redelivered approve must be ignored", st.Signals)
	}
	if !hasAll(types, contracts.EventAwaitingApproval, contracts.EventApproved) || hasAll(types, contracts.EventSignalRejected) {
		t.Fatalf("events %v", types)
	}
}

func TestManualReviewExpiresAndCancels(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("expired")
	in.ManualReview = true
	st, types := w.run(in)
	if st.State != domain.StateCancelled || !strings.Contains(st.FailureReason, "manual review not approved within 1h0m0s") {
		t.Fatalf("state %s reason %q", st.State, st.FailureReason)
	}
	if hasAll(types, contracts.EventApproved) || st.Payment.Status != PaymentStatusPending {
		t.Fatalf("events %v payment %s", types, st.Payment.Status)
	}
}

func TestDispatchFailedThenRetriedToSuccess(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("dispatch-retry")
	in.Address.ZipCode = zipFailOnce
	st, types := w.run(in)
	if st.State != domain.StateShipped || st.Shipping.Attempt != 2 || st.Shipping.WorkflowID != contracts.ShippingWorkflowID(in.OrderID, 2) {
		t.Fatalf("state %s shipping %+v", st.State, st.Shipping)
	}
	started := 0
	for _, ty := range types {
		if ty == contracts.EventShippingStarted {
			started++
		}
	}
	if started != 2 || !hasAll(types, contracts.EventDispatchFailed) || st.Attempts[domain.StepDispatchCarrier] < 2 {
		t.Fatalf("events %v attempts %v", types, st.Attempts)
	}
}

func TestDispatchFailuresExhaustedFailAndRefund(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("dispatch-dead")
	in.Address.ZipCode = zipFailAlways
	st, types := w.run(in)
	if st.State != domain.StateFailed || st.Payment.Status != PaymentStatusRefunded || !strings.Contains(st.FailureReason, "dispatch failed") {
		t.Fatalf("state %s payment %s reason %q", st.State, st.Payment.Status, st.FailureReason)
	}
	if !hasAll(types, contracts.EventDispatchFailed, contracts.EventPaymentRefunded, contracts.EventFailed) {
		t.Fatalf("events %v", types)
	}
	w.infra.expectPaymentStatus(t, in.PaymentID, PaymentStatusRefunded)
}

func TestReusedPaymentIDFailsOrderWithoutRefund(t *testing.T) {
	w := newWFTest(t)
	other := orderInput("first-owner")
	a := &Activities{Pool: w.infra.Pool, Log: w.infra.log}
	if _, err := a.ChargePayment(context.Background(), PaymentInput{OrderID: other.OrderID, PaymentID: "pay-shared", AmountCents: 100, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	in := orderInput("second-owner")
	in.PaymentID = "pay-shared"
	st, _ := w.run(in)
	if st.State != domain.StateFailed || !strings.Contains(st.FailureReason, "another order") {
		t.Fatalf("state %s reason %q", st.State, st.FailureReason)
	}
	if owner, status, _, _ := w.infra.payment(t, "pay-shared"); owner != other.OrderID || status != "charged" {
		t.Fatalf("the first order's payment changed: %s %s", owner, status)
	}
}

func TestTemporalCancelRequestCancelsLikeTheSignal(t *testing.T) {
	w := newWFTest(t)
	in := orderInput("temporal-cancel")
	in.ManualReview = true
	w.env.RegisterDelayedCallback(w.env.CancelWorkflow, time.Minute)
	st, types := w.run(in)
	if st.State != domain.StateCancelled || st.FailureReason != "cancelled: cancellation requested through Temporal" {
		t.Fatalf("state %s reason %q", st.State, st.FailureReason)
	}
	if types[len(types)-1] != contracts.EventCancelled {
		t.Fatalf("events %v", types)
	}
}
