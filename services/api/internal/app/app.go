// Package app is what the API decides: commands (commands.go: validate,
// check the owner, publish, optionally wait for the bridge's outcome),
// queries (queries.go: live status with the projection as fallback, order,
// events, list) and who may ask (clients.go: clients, their scopes, the
// client ID that becomes an order's owner). It owns the interfaces it needs
// from the outside (CommandBus, ResultWatch, LiveStatus, Store, in the files
// that use them), which internal/adapters implements, so the HTTP port and
// the adapters never depend on each other.
package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// ErrNotFound means neither the live workflow nor the projection knows the
// order (or the row asked for).
var ErrNotFound = errors.New("not found")

// ErrUnavailable means a dependency (NATS, JetStream, PostgreSQL) could not
// answer, so the request may succeed if retried.
var ErrUnavailable = errors.New("dependency unavailable")

// RejectedError carries the bridge's refusal of a command, so the client
// sees the reason instead of a bare failure.
type RejectedError struct {
	Result contracts.CommandResult
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("command %s (%s) rejected: %s", e.Result.CommandID, e.Result.Kind, e.Result.Reason)
}

// unavailable wraps err so it maps to 503 while keeping the cause.
func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
}

// Submission is what happened to a submitted command.
type Submission struct {
	Command   contracts.Command
	Duplicate bool // the broker had already stored this command ID
	// Result is the bridge's outcome when the caller asked to wait and it
	// arrived in time; nil otherwise.
	Result *contracts.CommandResult
}

// StatusView is an order's status with the source that answered, so a
// client knows whether it sees the live workflow or the (possibly older)
// projection.
type StatusView struct {
	Source         string                      `json:"source"` // temporal or projection
	OrderID        string                      `json:"order_id"`
	WorkflowID     string                      `json:"workflow_id,omitempty"`
	RunID          string                      `json:"run_id,omitempty"`
	WorkflowStatus string                      `json:"workflow_status,omitempty"`
	Status         contracts.OrderStatus       `json:"status"`
	Pending        []contracts.PendingActivity `json:"pending_activities,omitempty"`
	ProjectedSeq   int64                       `json:"projected_seq,omitempty"`
	ProjectedAt    *time.Time                  `json:"projected_at,omitempty"`
	LiveError      string                      `json:"live_error,omitempty"` // why the live source did not answer
}

// Projection is the projector's last view of an order.
type Projection struct {
	Snapshot  contracts.OrderStatus
	LastSeq   int64
	UpdatedAt time.Time
}

// Payment is the payment part of an order record.
type Payment struct {
	PaymentID   string     `json:"payment_id"`
	Status      string     `json:"status"`
	AmountCents int64      `json:"amount_cents"`
	ChargedAt   *time.Time `json:"charged_at,omitempty"`
	RefundedAt  *time.Time `json:"refunded_at,omitempty"`
}

// OrderRecord is one row of the orders projection, shaped for clients.
type OrderRecord struct {
	OrderID       string                   `json:"order_id"`
	WorkflowID    string                   `json:"workflow_id"`
	State         domain.OrderState        `json:"state"`
	Step          domain.Step              `json:"step"`
	Terminal      bool                     `json:"terminal"`
	ManualReview  bool                     `json:"manual_review"`
	Items         []domain.Item            `json:"items"`
	Address       domain.Address           `json:"address"`
	Payment       Payment                  `json:"payment"`
	Shipping      *contracts.ShippingInfo  `json:"shipping,omitempty"`
	Attempts      map[domain.Step]int      `json:"attempts,omitempty"`
	RecentErrors  []contracts.StepError    `json:"recent_errors,omitempty"`
	Signals       []contracts.SignalRecord `json:"signals,omitempty"`
	FailureReason string                   `json:"failure_reason,omitempty"`
	LastSeq       int64                    `json:"last_seq"`
	LastEventType contracts.EventType      `json:"last_event_type"`
	AcceptedAt    time.Time                `json:"accepted_at"`
	UpdatedAt     time.Time                `json:"updated_at"`
	CompletedAt   *time.Time               `json:"completed_at,omitempty"`
}

// EventRecord is one entry of an order's audit log.
type EventRecord struct {
	EventID     string              `json:"event_id"`
	Seq         int64               `json:"seq"`
	Type        contracts.EventType `json:"type"`
	OccurredAt  time.Time           `json:"occurred_at"`
	State       domain.OrderState   `json:"state"`
	Step        domain.Step         `json:"step"`
	Data        map[string]any      `json:"data"`
	ProjectedAt time.Time           `json:"projected_at"`
}

// OrderSummary is one entry of the order list.
type OrderSummary struct {
	OrderID        string            `json:"order_id"`
	State          domain.OrderState `json:"state"`
	Step           domain.Step       `json:"step"`
	Terminal       bool              `json:"terminal"`
	PaymentID      string            `json:"payment_id"`
	PaymentStatus  string            `json:"payment_status"`
	AmountCents    int64             `json:"amount_cents"`
	TrackingNumber string            `json:"tracking_number,omitempty"`
	AcceptedAt     time.Time         `json:"accepted_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	CompletedAt    *time.Time        `json:"completed_at,omitempty"`
}

// Cursor is a position in the list order (accepted_at DESC, order_id DESC):
// the next page starts strictly after it.
type Cursor struct {
	AcceptedAt time.Time
	OrderID    string
}

// ListFilter selects a page of orders.
type ListFilter struct {
	Owner string            // empty: every owner (the API without keys)
	State domain.OrderState // empty: every state
	Limit int
	After *Cursor
}

// Page is one page of the order list; Next is nil on the last page.
type Page struct {
	Orders []OrderSummary
	Next   *Cursor
}
