package client

import (
	"encoding/json"
	"time"
)

// CommandKind is the last token of a command subject.
type CommandKind string

// The command kinds the bridge applies.
const (
	KindStart         CommandKind = "start"
	KindCancel        CommandKind = "cancel"
	KindUpdateAddress CommandKind = "update-address"
	KindApprove       CommandKind = "approve"
)

// Item is one order line.
type Item struct {
	SKU        string `json:"sku"`
	Quantity   int    `json:"quantity"`
	PriceCents int64  `json:"price_cents"`
}

// Address is a shipping address; every field is required.
type Address struct {
	Street  string `json:"street"`
	City    string `json:"city"`
	State   string `json:"state"`
	ZipCode string `json:"zip_code"`
}

// Valid reports whether k is one of the command kinds above.
func (k CommandKind) Valid() bool {
	switch k {
	case KindStart, KindCancel, KindUpdateAddress, KindApprove:
		return true
	}
	return false
}

// Command is the body of a message on orders.commands.<order_id>.<kind>.
// Which payload fields apply depends on the kind (taken from the subject,
// which is authoritative). CommandID repeats the Nats-Msg-Id header so a
// command stays traceable once it has left the broker.
type Command struct {
	CommandID string      `json:"command_id"`
	OrderID   string      `json:"order_id"`
	Kind      CommandKind `json:"kind"`
	IssuedAt  time.Time   `json:"issued_at"`
	// Owner is the client the order belongs to (README, Security): the API
	// sets it to the authenticated client; a NATS publisher names it itself
	// (the command-publisher role is trusted to do so). Empty means no owner.
	Owner string `json:"owner,omitempty"`
	// start
	PaymentID    string   `json:"payment_id,omitempty"`
	Items        []Item   `json:"items,omitempty"`
	Address      *Address `json:"address,omitempty"`
	ManualReview bool     `json:"manual_review,omitempty"`
	// update-address uses Address; cancel may carry a reason.
	Reason string `json:"reason,omitempty"`
}

// Outcome is what the bridge did with a command.
type Outcome string

// The outcomes of a command.
const (
	OutcomeStarted   Outcome = "started"   // a start created the workflow
	OutcomeDuplicate Outcome = "duplicate" // already applied; nothing done again
	OutcomeApplied   Outcome = "applied"   // a signal was delivered to the workflow
	OutcomeRejected  Outcome = "rejected"  // cannot be applied; see Reason
)

// CommandResult is the bridge's outcome of one command it settled,
// published on orders.results.<order_id> and kept in the ORDER_RESULTS
// stream, so a sender (HTTP with `Prefer: wait`, or a NATS client) learns
// the outcome.
type CommandResult struct {
	CommandID  string      `json:"command_id"`
	OrderID    string      `json:"order_id"`
	Kind       CommandKind `json:"kind"`
	Outcome    Outcome     `json:"outcome"`
	Reason     string      `json:"reason,omitempty"`
	WorkflowID string      `json:"workflow_id,omitempty"`
	RunID      string      `json:"run_id,omitempty"`
	At         time.Time   `json:"at"`
}

// OrderState is where an order stands; shipped, cancelled and failed are
// terminal.
type OrderState string

// The order states.
const (
	StateReceived         OrderState = "received"
	StateValidated        OrderState = "validated"
	StateAwaitingApproval OrderState = "awaiting_approval"
	StateApproved         OrderState = "approved"
	StatePaid             OrderState = "paid"
	StateShipping         OrderState = "shipping"
	StateDispatched       OrderState = "dispatched"
	StateShipped          OrderState = "shipped"
	StateCancelled        OrderState = "cancelled"
	StateFailed           OrderState = "failed"
)

// Terminal reports whether an order in state s will not change again.
func (s OrderState) Terminal() bool {
	return s == StateShipped || s == StateCancelled || s == StateFailed
}

// StepError is one failed attempt of a business step.
type StepError struct {
	Step    string    `json:"step"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
	At      time.Time `json:"at"`
}

// PaymentInfo is the order's charge.
type PaymentInfo struct {
	PaymentID   string     `json:"payment_id"`
	AmountCents int64      `json:"amount_cents"`
	Status      string     `json:"status"` // pending, charged, refunded, voided
	ChargedAt   *time.Time `json:"charged_at,omitempty"`
	RefundedAt  *time.Time `json:"refunded_at,omitempty"`
}

// ShippingInfo is the latest shipping attempt.
type ShippingInfo struct {
	Attempt        int        `json:"attempt"`
	WorkflowID     string     `json:"workflow_id,omitempty"`
	PreparedAt     *time.Time `json:"prepared_at,omitempty"`
	DispatchedAt   *time.Time `json:"dispatched_at,omitempty"`
	TrackingNumber string     `json:"tracking_number,omitempty"`
	Carrier        string     `json:"carrier,omitempty"`
	LastFailure    string     `json:"last_failure,omitempty"`
}

// SignalRecord is a signal the workflow decided on (accepted or not).
type SignalRecord struct {
	Signal   string    `json:"signal"`
	Accepted bool      `json:"accepted"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// OrderStatus is the workflow's status: the status query's answer and the
// snapshot every event carries.
type OrderStatus struct {
	OrderID       string         `json:"order_id"`
	WorkflowID    string         `json:"workflow_id"`
	Owner         string         `json:"owner,omitempty"`
	State         OrderState     `json:"state"`
	Step          string         `json:"step"`
	Attempts      map[string]int `json:"attempts"`
	RecentErrors  []StepError    `json:"recent_errors"`
	Items         []Item         `json:"items"`
	Address       Address        `json:"address"`
	ManualReview  bool           `json:"manual_review"`
	Payment       PaymentInfo    `json:"payment"`
	Shipping      *ShippingInfo  `json:"shipping,omitempty"`
	Signals       []SignalRecord `json:"signals,omitempty"`
	FailureReason string         `json:"failure_reason,omitempty"`
	// WaitingFor names what a running order is stuck on (a step over its
	// budget, an unreachable dependency, a shipping child making no
	// progress); empty while it moves.
	WaitingFor  string     `json:"waiting_for,omitempty"`
	AcceptedAt  time.Time  `json:"accepted_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// EventType is the last token of an event subject.
type EventType string

// The event types; shipped, cancelled and failed end an order.
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

// EventSchemaVersion is the event shape this package decodes; it is bumped
// on any incompatible change to Event.
const EventSchemaVersion = 1

// Event is one order transition, the body of orders.events.<order_id>.<type>.
// Order is the whole order after the transition, so the event with the
// highest Seq per order is always the current state.
type Event struct {
	ID            string          `json:"id"` // <order_id>:<seq>
	SchemaVersion int             `json:"schema_version"`
	Type          EventType       `json:"type"`
	OrderID       string          `json:"order_id"`
	Seq           int64           `json:"seq"` // per order, 1, 2, 3, … without gaps
	Time          time.Time       `json:"time"`
	WorkflowID    string          `json:"workflow_id"`
	Data          json.RawMessage `json:"data,omitempty"` // type-specific detail
	Order         OrderStatus     `json:"order"`
}

// StatusReply is the answer on orders.status.<order_id>.
type StatusReply struct {
	Source         string            `json:"source"` // "temporal"
	WorkflowID     string            `json:"workflow_id,omitempty"`
	RunID          string            `json:"run_id,omitempty"`
	WorkflowStatus string            `json:"workflow_status,omitempty"` // RUNNING, COMPLETED, ...
	Status         *OrderStatus      `json:"status,omitempty"`
	Pending        []PendingActivity `json:"pending_activities,omitempty"`
	Error          string            `json:"error,omitempty"` // set when the order is unknown or Temporal failed
	NotFound       bool              `json:"not_found,omitempty"`
	// Owner is the client that started the order, valid when OwnerKnown
	// (Temporal answered the describe or the query).
	Owner      string `json:"owner,omitempty"`
	OwnerKnown bool   `json:"owner_known,omitempty"`
}

// PendingActivity is a step (or the shipping child) Temporal is running or
// retrying.
type PendingActivity struct {
	Type        string     `json:"type"`
	Attempt     int32      `json:"attempt"`
	State       string     `json:"state"`
	LastFailure string     `json:"last_failure,omitempty"`
	LastStarted *time.Time `json:"last_started,omitempty"`
}
