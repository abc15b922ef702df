// Package v0 is OrderWorkflow as released before durable activities
// (workflow version DefaultVersion): business steps as local activities
// retried by a workflow loop, events published by local activities. It is
// frozen: orders started on it finish on it, replayed by the current worker
// (OrderWorkflow dispatches here when its history holds no version marker).
// Never change its commands; delete it once no such order can be open.
package v0

import (
	"time"

	"github.com/orderflow/orderflow/services/order-worker/order/activityio"
)

// Settings as v0 recorded them at start (same JSON shape).
type Settings struct {
	AutoApproveAfter     time.Duration `json:"auto_approve_after"`
	ManualReviewDeadline time.Duration `json:"manual_review_deadline"`
	StepTimeout          time.Duration `json:"step_timeout"`
	MaxDispatchAttempts  int           `json:"max_dispatch_attempts"`
	MaxShippingAttempts  int           `json:"max_shipping_attempts"`
	ShippingTaskQueue    string        `json:"shipping_task_queue"`
}

// Activity arguments and results of v0, by value shape.
type (
	StepInput     = activityio.StepInput
	PaymentInput  = activityio.PaymentInput
	PaymentResult struct {
		Status      string     `json:"status"`
		AmountCents int64      `json:"amount_cents"`
		ChargedAt   *time.Time `json:"charged_at,omitempty"`
		RefundedAt  *time.Time `json:"refunded_at,omitempty"`
	}
)

const (
	ErrTypeInvalidOrder   = "InvalidOrder"
	PaymentStatusPending  = "pending"
	PaymentStatusCharged  = "charged"
	PaymentStatusRefunded = "refunded"
)
