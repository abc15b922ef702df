package projector_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// Order paths the generator knows, covering every terminal state.
const (
	pathShipped          = "shipped"
	pathManualRetried    = "manual-retried"
	pathCancelled        = "cancelled"
	pathValidationFailed = "validation-failed"
)

var paths = []string{pathShipped, pathManualRetried, pathCancelled, pathValidationFailed}

// orderBuilder replays an order's lifecycle the way OrderWorkflow reports
// it: each transition mutates the status and emits an event carrying a copy
// of the whole snapshot.
type orderBuilder struct {
	st     contracts.OrderStatus
	now    time.Time
	events []contracts.Event
}

func newOrder(orderID string, start time.Time, manual bool) *orderBuilder {
	items := []domain.Item{{SKU: "SKU-" + orderID[:min(6, len(orderID))], Quantity: 2, PriceCents: 1250}, {SKU: "SKU-MUG", Quantity: 1, PriceCents: 899}}
	start = start.UTC().Truncate(time.Microsecond)
	return &orderBuilder{now: start, st: contracts.OrderStatus{
		OrderID:      orderID,
		WorkflowID:   contracts.OrderWorkflowID(orderID),
		Attempts:     map[domain.Step]int{},
		RecentErrors: []contracts.StepError{},
		Items:        items,
		Address:      domain.Address{Street: "12 Elm St", City: "Portland", State: "OR", ZipCode: "97201"},
		ManualReview: manual,
		Payment:      contracts.PaymentInfo{PaymentID: "pay-" + orderID, AmountCents: domain.TotalCents(items), Status: "pending"},
		AcceptedAt:   start,
	}}
}

func (o *orderBuilder) emit(t contracts.EventType, state domain.OrderState, step domain.Step, data any) {
	o.now = o.now.Add(137 * time.Millisecond)
	o.st.State, o.st.Step, o.st.UpdatedAt = state, step, o.now
	o.st.Attempts[step]++
	if state.Terminal() {
		at := o.now
		o.st.CompletedAt = &at
	}
	var raw json.RawMessage
	if data != nil {
		raw, _ = json.Marshal(data)
	}
	// Deep copy through JSON: later transitions must not change this event.
	body, _ := json.Marshal(o.st)
	var snap contracts.OrderStatus
	_ = json.Unmarshal(body, &snap)
	seq := int64(len(o.events) + 1)
	o.events = append(o.events, contracts.Event{
		ID: contracts.EventID(o.st.OrderID, seq), SchemaVersion: contracts.EventSchemaVersion, Type: t,
		OrderID: o.st.OrderID, Seq: seq, Time: o.now, WorkflowID: o.st.WorkflowID, Data: raw, Order: snap,
	})
}

func (o *orderBuilder) fail(step domain.Step, msg string) {
	o.st.RecentErrors = append(o.st.RecentErrors, contracts.StepError{Step: step, Attempt: o.st.Attempts[step] + 1, Error: msg, At: o.now})
	o.st.Attempts[step]++
}

func (o *orderBuilder) charge() {
	o.fail(domain.StepChargePayment, "injected failure")
	at := o.now
	o.st.Payment.Status, o.st.Payment.ChargedAt = "charged", &at
	o.emit(contracts.EventPaymentCharged, domain.StatePaid, domain.StepChargePayment, map[string]any{"amount_cents": o.st.Payment.AmountCents})
}

func (o *orderBuilder) ship(attempt int) {
	o.st.Shipping = &contracts.ShippingInfo{Attempt: attempt, WorkflowID: contracts.ShippingWorkflowID(o.st.OrderID, attempt)}
	o.emit(contracts.EventShippingStarted, domain.StateShipping, domain.StepPreparePackage, map[string]any{"attempt": attempt})
	at := o.now
	o.st.Shipping.PreparedAt = &at
	o.emit(contracts.EventPackagePrepared, domain.StateShipping, domain.StepPreparePackage, nil)
}

// orderEvents returns the full event sequence of one order on path.
func orderEvents(orderID, path string, start time.Time) []contracts.Event {
	o := newOrder(orderID, start, path == pathManualRetried)
	o.emit(contracts.EventReceived, domain.StateReceived, domain.StepReceive, nil)
	if path == pathValidationFailed {
		o.st.Items = []domain.Item{}
		o.st.FailureReason = "items: must contain at least one item"
		o.emit(contracts.EventValidationFailed, domain.StateFailed, domain.StepValidate, map[string]any{"reason": o.st.FailureReason})
		return o.events
	}
	o.emit(contracts.EventValidated, domain.StateValidated, domain.StepValidate, nil)
	if path == pathManualRetried {
		o.emit(contracts.EventAwaitingApproval, domain.StateAwaitingApproval, domain.StepManualReview, nil)
	}
	o.st.Signals = append(o.st.Signals, contracts.SignalRecord{Signal: contracts.SignalApprove, Accepted: true, At: o.now})
	o.emit(contracts.EventApproved, domain.StateApproved, domain.StepManualReview, nil)
	o.charge()
	switch path {
	case pathCancelled:
		o.ship(1)
		o.st.Signals = append(o.st.Signals, contracts.SignalRecord{Signal: contracts.SignalCancel, Accepted: true, At: o.now})
		at := o.now
		o.st.Payment.Status, o.st.Payment.RefundedAt = "refunded", &at
		o.emit(contracts.EventPaymentRefunded, domain.StateShipping, domain.StepRefundPayment, nil)
		o.st.FailureReason = "cancelled by customer"
		o.emit(contracts.EventCancelled, domain.StateCancelled, domain.StepRefundPayment, map[string]any{"reason": "customer request"})
		return o.events
	case pathManualRetried:
		o.st.Address = domain.Address{Street: "99 Oak Ave", City: "Salem", State: "OR", ZipCode: "97301"}
		o.st.Signals = append(o.st.Signals, contracts.SignalRecord{Signal: contracts.SignalUpdateAddress, Accepted: true, At: o.now})
		o.emit(contracts.EventAddressUpdated, domain.StatePaid, domain.StepChargePayment, map[string]any{"address": o.st.Address})
		o.ship(1)
		o.st.Shipping.LastFailure = "carrier unavailable"
		o.emit(contracts.EventDispatchFailed, domain.StateShipping, domain.StepDispatchCarrier, map[string]any{"attempt": 1, "reason": "carrier unavailable"})
		o.ship(2)
	default:
		o.ship(1)
	}
	at := o.now
	o.st.Shipping.DispatchedAt, o.st.Shipping.Carrier = &at, "UPS"
	o.st.Shipping.TrackingNumber = fmt.Sprintf("1Z%s", orderID)
	o.emit(contracts.EventDispatched, domain.StateDispatched, domain.StepDispatchCarrier, map[string]any{"tracking_number": o.st.Shipping.TrackingNumber})
	if path == pathManualRetried {
		o.st.Signals = append(o.st.Signals, contracts.SignalRecord{Signal: contracts.SignalCancel, Accepted: false, Reason: "already dispatched", At: o.now})
		o.emit(contracts.EventSignalRejected, domain.StateDispatched, domain.StepDispatchCarrier, map[string]any{"signal": "cancel", "reason": "already dispatched"})
	}
	o.emit(contracts.EventShipped, domain.StateShipped, domain.StepMarkShipped, nil)
	return o.events
}

// workload is n orders over every path, each order's events in seq order,
// orders interleaved the way concurrent workflows publish them.
type workload struct {
	orders map[string][]contracts.Event
	all    []contracts.Event // interleaved, each order in seq order
}

func newWorkload(prefix string, n int, seed uint64) workload {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	w := workload{orders: map[string][]contracts.Event{}}
	start := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	var queues [][]contracts.Event
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		evs := orderEvents(id, paths[i%len(paths)], start.Add(time.Duration(i)*time.Second))
		w.orders[id] = evs
		queues = append(queues, evs)
	}
	for len(queues) > 0 {
		i := rng.IntN(len(queues))
		w.all = append(w.all, queues[i][0])
		if queues[i] = queues[i][1:]; len(queues[i]) == 0 {
			queues = append(queues[:i], queues[i+1:]...)
		}
	}
	return w
}

// shuffledWithinOrders keeps the interleaving's shape but delivers each
// order's events in a random order.
func (w workload) shuffledWithinOrders(seed uint64) []contracts.Event {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b9))
	perOrder := map[string][]contracts.Event{}
	for id, evs := range w.orders {
		s := append([]contracts.Event(nil), evs...)
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		perOrder[id] = s
	}
	out := make([]contracts.Event, 0, len(w.all))
	for _, ev := range w.all {
		out = append(out, perOrder[ev.OrderID][0])
		perOrder[ev.OrderID] = perOrder[ev.OrderID][1:]
	}
	return out
}
