// Package v0 is ShippingWorkflow as released before durable activities
// (workflow version DefaultVersion): steps as local activities retried by a
// workflow loop. It is frozen: a child started on it finishes on it,
// replayed by the current worker. Never change its commands.
package v0

import "github.com/orderflow/orderflow/services/shipping-worker/shipment/activityio"

// StepInput is the activities' argument.
type StepInput = activityio.StepInput
