package contracts

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/orderflow/orderflow/client"
)

// EventType is the last token of an event subject.
type EventType = client.EventType

// Order event types. Every state transition emits exactly one event.
const (
	EventReceived         = client.EventReceived
	EventValidated        = client.EventValidated
	EventValidationFailed = client.EventValidationFailed
	EventAwaitingApproval = client.EventAwaitingApproval
	EventApproved         = client.EventApproved
	EventPaymentCharged   = client.EventPaymentCharged
	EventShippingStarted  = client.EventShippingStarted
	EventPackagePrepared  = client.EventPackagePrepared
	EventDispatchFailed   = client.EventDispatchFailed
	EventDispatched       = client.EventDispatched
	EventShipped          = client.EventShipped
	EventAddressUpdated   = client.EventAddressUpdated
	EventSignalRejected   = client.EventSignalRejected
	EventPaymentRefunded  = client.EventPaymentRefunded
	EventCancelled        = client.EventCancelled
	EventFailed           = client.EventFailed
)

// EventSchemaVersion is bumped on any incompatible change to Event.
const EventSchemaVersion = client.EventSchemaVersion

// EventSource is the CloudEvents source of every order event.
const EventSource = "orderflow/order-worker"

// Event is the JSON body of every message on orders.events.<order_id>.<type>.
// Each event carries the order's full snapshot after the transition, so a
// consumer that keeps only the highest Seq per order is always right, in any
// delivery order.
type Event = client.Event

// EventID is deterministic: the same transition always gets the same ID, so
// a re-published event is dropped by the broker and by the projector.
func EventID(orderID string, seq int64) string {
	return orderID + ":" + strconv.FormatInt(seq, 10)
}

// ParseEventSubject splits orders.events.<order_id>.<type>.
func ParseEventSubject(subject string) (orderID string, t EventType, err error) {
	orderID, last, err := splitSubject(subject, EventsRoot, "type")
	return orderID, EventType(last), err
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
