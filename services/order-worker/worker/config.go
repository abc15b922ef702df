package worker

import (
	"fmt"
	"time"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/faults"
)

// Config is everything the order worker reads from the environment.
type Config struct {
	config.Log
	config.NATS
	config.Postgres
	config.Temporal
	config.Shutdown
	Faults faults.Config

	// AutoApproveAfter is the review window of an order that did not ask for
	// manual review. It is part of the 15 s budget, so it is short.
	AutoApproveAfter time.Duration `env:"AUTO_APPROVE_AFTER" envDefault:"500ms"`
	// ManualReviewDeadline is how long an order that asked for manual review
	// waits for approve before it is cancelled.
	ManualReviewDeadline time.Duration `env:"MANUAL_REVIEW_DEADLINE" envDefault:"24h"`
	// StepTimeout bounds one attempt of a business step. A hang costs exactly
	// this long and a step hangs about once on average at the original
	// rates, so it multiplies into the total almost one for one per step. A
	// healthy attempt takes a few milliseconds (a local activity, one SQL
	// statement at most), so 250 ms leaves a wide margin for a busy machine.
	StepTimeout time.Duration `env:"STEP_TIMEOUT" envDefault:"250ms"`
	// MaxDispatchAttempts bounds dispatch attempts in one shipping attempt,
	// after which the child reports dispatch-failed. At 33% success per
	// attempt 10 attempts fail together for 1.8% of shipments: rare, but
	// the retry path is exercised, and 10 attempts cost at most 2.5 s.
	MaxDispatchAttempts int `env:"MAX_DISPATCH_ATTEMPTS" envDefault:"10"`
	// MaxShippingAttempts bounds shipping workflows per order before the
	// order fails and is refunded.
	MaxShippingAttempts int `env:"MAX_SHIPPING_ATTEMPTS" envDefault:"3"`
}

// Validate checks ranges the defaults cannot express.
func (c Config) Validate() error {
	if err := c.Faults.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	switch {
	case c.OrdersTaskQueue == "" || c.ShippingTaskQueue == "":
		return fmt.Errorf("ORDERS_TASK_QUEUE and SHIPPING_TASK_QUEUE must be set")
	case c.AutoApproveAfter < 0 || c.ManualReviewDeadline <= 0:
		return fmt.Errorf("AUTO_APPROVE_AFTER must be >= 0 and MANUAL_REVIEW_DEADLINE > 0")
	case c.StepTimeout < 10*time.Millisecond:
		return fmt.Errorf("STEP_TIMEOUT %v is below 10ms", c.StepTimeout)
	case c.MaxDispatchAttempts < 1 || c.MaxShippingAttempts < 1:
		return fmt.Errorf("MAX_DISPATCH_ATTEMPTS and MAX_SHIPPING_ATTEMPTS must be at least 1")
	}
	return nil
}

// Settings are the lifecycle knobs a workflow records at its start, so a
// worker restarted with other values never changes a running order's
// history.
type Settings struct {
	AutoApproveAfter     time.Duration `json:"auto_approve_after"`
	ManualReviewDeadline time.Duration `json:"manual_review_deadline"`
	StepTimeout          time.Duration `json:"step_timeout"`
	MaxDispatchAttempts  int           `json:"max_dispatch_attempts"`
	MaxShippingAttempts  int           `json:"max_shipping_attempts"`
	ShippingTaskQueue    string        `json:"shipping_task_queue"`
}

// Settings extracts the workflow settings.
func (c Config) Settings() Settings {
	return Settings{
		AutoApproveAfter:     c.AutoApproveAfter,
		ManualReviewDeadline: c.ManualReviewDeadline,
		StepTimeout:          c.StepTimeout,
		MaxDispatchAttempts:  c.MaxDispatchAttempts,
		MaxShippingAttempts:  c.MaxShippingAttempts,
		ShippingTaskQueue:    c.ShippingTaskQueue,
	}
}
