// Package activityio holds the arguments of OrderWorkflow's activities,
// shared by every workflow version. v0 calls them as local activities by
// name, and a local activity receives its arguments as the Go values the
// workflow passed: they must be the very types the activities take.
package activityio

import "github.com/orderflow/orderflow/shared/domain"

// StepInput is the argument of the receive and validate steps. Attempt is
// set by v0 only (its own attempt count); later versions use Temporal's.
type StepInput struct {
	OrderID string        `json:"order_id"`
	Attempt int           `json:"attempt,omitempty"`
	Items   []domain.Item `json:"items"`
	// Round is the step's round (a new one after its budget ran out).
	Round int `json:"round,omitempty"`
}

// PaymentInput is the argument of charge and refund.
type PaymentInput struct {
	OrderID     string `json:"order_id"`
	PaymentID   string `json:"payment_id"`
	AmountCents int64  `json:"amount_cents"`
	Attempt     int    `json:"attempt,omitempty"`
	Round       int    `json:"round,omitempty"`
}
