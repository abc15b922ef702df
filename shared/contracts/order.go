package contracts

import (
	"time"

	"github.com/orderflow/orderflow/client"
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

// The status types, defined once in the client module.
type (
	// StepError is one failed attempt, kept in status for visibility.
	StepError = client.StepError
	// PaymentInfo is the payment as the workflow knows it.
	PaymentInfo = client.PaymentInfo
	// ShippingInfo is the shipping progress as the parent knows it.
	ShippingInfo = client.ShippingInfo
	// SignalRecord is a signal the workflow received, with its outcome.
	SignalRecord = client.SignalRecord
	// OrderStatus is the answer of the `status` query and the body of the
	// snapshot carried by every event.
	OrderStatus = client.OrderStatus
)

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
