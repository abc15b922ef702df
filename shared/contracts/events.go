package contracts

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EventType is the last token of an event subject.
type EventType string

// Order event types. Every state transition emits exactly one event.
const (
	EventReceived         EventType = "received"
	EventValidated        EventType = "validated"
	EventValidationFailed EventType = "validation_failed"
	EventAwaitingApproval EventType = "awaiting_approval"
	EventApproved         EventType = "approved"
	EventPaymentCharged   EventType = "payment_charged"
	EventShippingStarted  EventType = "shipping_started"
	EventPackagePrepared  EventType = "package_prepared"
	EventDispatchFailed   EventType = "dispatch_failed"
	EventDispatched       EventType = "dispatched"
	EventShipped          EventType = "shipped"
	EventAddressUpdated   EventType = "address_updated"
	EventSignalRejected   EventType = "signal_rejected"
	EventPaymentRefunded  EventType = "payment_refunded"
	EventCancelled        EventType = "cancelled"
	EventFailed           EventType = "failed"
)

// EventSchemaVersion is bumped on any incompatible change to Event.
const EventSchemaVersion = 1

// EventSource is the CloudEvents source of every order event.
const EventSource = "orderflow/order-worker"

// Event is the JSON body of every message on orders.events.<order_id>.<type>.
// Each event carries the order's full snapshot after the transition, so a
// consumer that keeps only the highest Seq per order is always right, in any
// delivery order.
type Event struct {
	ID            string          `json:"id"`
	SchemaVersion int             `json:"schema_version"`
	Type          EventType       `json:"type"`
	OrderID       string          `json:"order_id"`
	Seq           int64           `json:"seq"`
	Time          time.Time       `json:"time"`
	WorkflowID    string          `json:"workflow_id"`
	Data          json.RawMessage `json:"data,omitempty"` // type-specific detail
	Order         OrderStatus     `json:"order"`
}

// EventID is deterministic: the same transition always gets the same ID, so
// a re-published event is dropped by the broker and by the projector.
func EventID(orderID string, seq int64) string {
	return orderID + ":" + strconv.FormatInt(seq, 10)
}

// ParseEventSubject splits orders.events.<order_id>.<type>.
func ParseEventSubject(subject string) (orderID string, t EventType, err error) {
	rest, ok := strings.CutPrefix(subject, EventsRoot+".")
	if !ok {
		return "", "", fmt.Errorf("subject %q is not under %s", subject, EventsRoot)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 2 {
		return "", "", fmt.Errorf("subject %q is not %s.<order_id>.<type>", subject, EventsRoot)
	}
	return parts[0], EventType(parts[1]), nil
}

// DecodeEvent parses and checks an event body; an error means the event can
// never be projected.
func DecodeEvent(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("event is not valid JSON: %w", err)
	}
	switch {
	case e.SchemaVersion != EventSchemaVersion:
		return Event{}, fmt.Errorf("event schema_version %d is not supported (want %d)", e.SchemaVersion, EventSchemaVersion)
	case ValidateOrderID(e.OrderID) != nil:
		return Event{}, fmt.Errorf("event: %w", ValidateOrderID(e.OrderID))
	case e.Seq < 1:
		return Event{}, fmt.Errorf("event seq %d is not positive", e.Seq)
	case e.ID != EventID(e.OrderID, e.Seq):
		return Event{}, fmt.Errorf("event id %q does not match order_id and seq", e.ID)
	case e.Type == "":
		return Event{}, fmt.Errorf("event type is empty")
	case e.Order.OrderID != e.OrderID:
		return Event{}, fmt.Errorf("event snapshot order_id %q does not match %q", e.Order.OrderID, e.OrderID)
	case e.Order.State == "":
		return Event{}, fmt.Errorf("event snapshot has no state")
	}
	return e, nil
}
