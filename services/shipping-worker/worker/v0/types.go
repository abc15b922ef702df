// Package v0 is ShippingWorkflow as released before durable activities
// (workflow version DefaultVersion): steps as local activities retried by a
// workflow loop. It is frozen: a child started on it finishes on it,
// replayed by the current worker. Never change its commands.
package v0

import "github.com/orderflow/orderflow/shared/contracts"

// StepInput is v0's activity argument, by value shape.
type StepInput struct {
	OrderID         string            `json:"order_id"`
	ShippingAttempt int               `json:"shipping_attempt"`
	Attempt         int               `json:"attempt"`
	Address         contracts.Address `json:"address"`
	Items           []contracts.Item  `json:"items"`
}
