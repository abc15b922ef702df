// Package activityio holds the argument of ShippingWorkflow's activities,
// shared by every workflow version. v0 calls them as local activities by
// name, and a local activity receives its arguments as the Go values the
// workflow passed: they must be the very type the activities take.
package activityio

import "github.com/orderflow/orderflow/shared/domain"

// StepInput is the argument of every shipping step of one shipping
// attempt. Attempt is set by v0 only (its own attempt count); later
// versions use Temporal's.
type StepInput struct {
	OrderID         string         `json:"order_id"`
	ShippingAttempt int            `json:"shipping_attempt"`
	Attempt         int            `json:"attempt,omitempty"`
	Address         domain.Address `json:"address"`
	Items           []domain.Item  `json:"items"`
	// Round is the step's round (a new one after its budget ran out).
	Round int `json:"round,omitempty"`
}
