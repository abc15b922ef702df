package contracts

import (
	"time"

	"github.com/orderflow/orderflow/shared/domain"
)

// OrderInput is OrderWorkflow's only argument.
type OrderInput struct {
	OrderID      string         `json:"order_id"`
	PaymentID    string         `json:"payment_id"`
	Items        []domain.Item  `json:"items"`
	Address      domain.Address `json:"address"`
	ManualReview bool           `json:"manual_review"`
	CommandID    string         `json:"command_id,omitempty"`
	AcceptedAt   time.Time      `json:"accepted_at"`
	// Owner is the client that started the order; only it may see or
	// change the order through the API.
	Owner string `json:"owner,omitempty"`
}

// StepError is one failed attempt, kept in status for visibility.
type StepError struct {
	Step    domain.Step `json:"step"`
	Attempt int         `json:"attempt"`
	Error   string      `json:"error"`
	At      time.Time   `json:"at"`
}

// PaymentInfo is the payment as the workflow knows it.
type PaymentInfo struct {
	PaymentID   string     `json:"payment_id"`
	AmountCents int64      `json:"amount_cents"`
	Status      string     `json:"status"` // pending, charged, refunded, voided
	ChargedAt   *time.Time `json:"charged_at,omitempty"`
	RefundedAt  *time.Time `json:"refunded_at,omitempty"`
}

// ShippingInfo is the shipping progress as the parent knows it.
type ShippingInfo struct {
	Attempt        int        `json:"attempt"`
	WorkflowID     string     `json:"workflow_id,omitempty"`
	PreparedAt     *time.Time `json:"prepared_at,omitempty"`
	DispatchedAt   *time.Time `json:"dispatched_at,omitempty"`
	TrackingNumber string     `json:"tracking_number,omitempty"`
	Carrier        string     `json:"carrier,omitempty"`
	LastFailure    string     `json:"last_failure,omitempty"`
}

// SignalRecord is a signal the workflow received, with its outcome.
type SignalRecord struct {
	Signal   string    `json:"signal"`
	Accepted bool      `json:"accepted"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// OrderStatus is the answer of the `status` query and the body of the
// snapshot carried by every event.
type OrderStatus struct {
	OrderID       string              `json:"order_id"`
	WorkflowID    string              `json:"workflow_id"`
	Owner         string              `json:"owner,omitempty"` // copied from OrderInput.Owner
	State         domain.OrderState   `json:"state"`
	Step          domain.Step         `json:"step"`
	Attempts      map[domain.Step]int `json:"attempts"`
	RecentErrors  []StepError         `json:"recent_errors"`
	Items         []domain.Item       `json:"items"`
	Address       domain.Address      `json:"address"`
	ManualReview  bool                `json:"manual_review"`
	Payment       PaymentInfo         `json:"payment"`
	Shipping      *ShippingInfo       `json:"shipping,omitempty"`
	Signals       []SignalRecord      `json:"signals,omitempty"`
	FailureReason string              `json:"failure_reason,omitempty"`
	// WaitingFor names what a running order is stuck on (a step over its
	// budget, an unreachable dependency, a shipping child making no
	// progress); empty while it moves.
	WaitingFor  string     `json:"waiting_for,omitempty"`
	AcceptedAt  time.Time  `json:"accepted_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// MaxRecentErrors bounds OrderStatus.RecentErrors.
const MaxRecentErrors = 10

// AppendRecentErrors appends e to errs and keeps the newest MaxRecentErrors.
// It is a pure function, so workflow code may call it.
func AppendRecentErrors(errs []StepError, e ...StepError) []StepError {
	errs = append(errs, e...)
	if n := len(errs); n > MaxRecentErrors {
		errs = errs[n-MaxRecentErrors:]
	}
	return errs
}
