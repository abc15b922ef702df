package order

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/client"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	v0 "github.com/orderflow/orderflow/services/order-worker/order/v0"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// Config is everything the order worker reads from the environment.
type Config struct {
	config.Log
	config.NATS
	config.Postgres
	config.Temporal
	config.Shutdown
	Faults faults.Config
	// OpsAddr serves /metrics, /livez and /readyz; "off" disables it.
	OpsAddr string `env:"OPS_ADDR" envDefault:":9183"`

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
	// StepBudget is a step's ScheduleToClose: retries of one step stop after
	// it, the order's status says what it waits for, and the step is
	// scheduled again (so an outage of minutes costs a few history events
	// per budget, and the order completes when the dependency returns).
	StepBudget time.Duration `env:"STEP_BUDGET" envDefault:"10s"`
	// RetryInitialInterval and RetryMaxInterval bound the backoff between
	// attempts of a step (coefficient 1.5). Short: the 15 s budget holds
	// about a dozen failed attempts in the tail, and retries cost no
	// history events however many there are.
	RetryInitialInterval time.Duration `env:"RETRY_INITIAL_INTERVAL" envDefault:"50ms"`
	RetryMaxInterval     time.Duration `env:"RETRY_MAX_INTERVAL" envDefault:"300ms"`
	// ShippingStallAfter: a shipping child with no progress for this long is
	// named in the order's status (waiting_for), e.g. no shipping worker.
	ShippingStallAfter time.Duration `env:"SHIPPING_STALL_AFTER" envDefault:"10s"`
	// MaxDispatchAttempts bounds dispatch attempts in one shipping attempt,
	// after which the child reports dispatch-failed. At 33% success per
	// attempt 10 attempts fail together for 1.8% of shipments: rare, but
	// the retry path is exercised, and 10 attempts cost at most 2.5 s.
	MaxDispatchAttempts int `env:"MAX_DISPATCH_ATTEMPTS" envDefault:"10"`
	// MaxShippingAttempts bounds shipping workflows per order before the
	// order fails and is refunded.
	MaxShippingAttempts int `env:"MAX_SHIPPING_ATTEMPTS" envDefault:"3"`
}

// OpsAddress is OpsAddr, for app.Run.
func (c Config) OpsAddress() string { return c.OpsAddr }

// Validate checks ranges the defaults cannot express.
func (c Config) Validate() error {
	var p config.Problems
	p.Add(c.Temporal.Validate(), c.Shutdown.Validate(), c.Faults.Validate())
	p.Check(c.AutoApproveAfter >= 0 && c.ManualReviewDeadline > 0, "AUTO_APPROVE_AFTER must be >= 0 and MANUAL_REVIEW_DEADLINE > 0")
	p.Check(c.StepTimeout >= 10*time.Millisecond, "STEP_TIMEOUT %v is below 10ms", c.StepTimeout)
	p.Check(c.StepBudget >= 2*c.StepTimeout, "STEP_BUDGET %v must be at least twice STEP_TIMEOUT %v", c.StepBudget, c.StepTimeout)
	p.Check(c.RetryInitialInterval > 0 && c.RetryMaxInterval >= c.RetryInitialInterval, "RETRY_INITIAL_INTERVAL must be > 0 and RETRY_MAX_INTERVAL at least as long")
	p.Check(c.ShippingStallAfter > 0, "SHIPPING_STALL_AFTER must be > 0")
	p.Check(c.MaxDispatchAttempts >= 1 && c.MaxShippingAttempts >= 1, "MAX_DISPATCH_ATTEMPTS and MAX_SHIPPING_ATTEMPTS must be at least 1")
	return p.Err()
}

// Settings are the lifecycle knobs a workflow records at its start, so a
// worker restarted with other values never changes a running order's
// history.
type Settings struct {
	AutoApproveAfter     time.Duration       `json:"auto_approve_after"`
	ManualReviewDeadline time.Duration       `json:"manual_review_deadline"`
	StepTimeout          time.Duration       `json:"step_timeout"`
	MaxDispatchAttempts  int                 `json:"max_dispatch_attempts"`
	MaxShippingAttempts  int                 `json:"max_shipping_attempts"`
	ShippingTaskQueue    string              `json:"shipping_task_queue"`
	Retry                contracts.StepRetry `json:"retry"`
	ShippingStallAfter   time.Duration       `json:"shipping_stall_after"`
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
		Retry:                contracts.StepRetry{Budget: c.StepBudget, InitialInterval: c.RetryInitialInterval, MaxInterval: c.RetryMaxInterval},
		ShippingStallAfter:   c.ShippingStallAfter,
	}
}

// v0 converts the settings for orders still on v0.
func (s Settings) v0() v0.Settings {
	return v0.Settings{
		AutoApproveAfter: s.AutoApproveAfter, ManualReviewDeadline: s.ManualReviewDeadline, StepTimeout: s.StepTimeout,
		MaxDispatchAttempts: s.MaxDispatchAttempts, MaxShippingAttempts: s.MaxShippingAttempts, ShippingTaskQueue: s.ShippingTaskQueue,
	}
}

// Register adds OrderWorkflow and the activities to r (a worker or a test
// environment).
func Register(r tworker.Registry, s Settings, a *Activities) {
	RegisterWorkflow(r, s)
	r.RegisterActivity(a)
}

// RegisterWorkflow adds OrderWorkflow alone, as a replayer needs it.
func RegisterWorkflow(r tworker.WorkflowRegistry, s Settings) {
	r.RegisterWorkflowWithOptions((&Workflows{Settings: s}).OrderWorkflow, workflow.RegisterOptions{Name: contracts.WorkflowOrder})
}

// RunWorker serves the orders task queue until ctx is done. The caller
// opened c, pool and js and closes them once RunWorker has returned, so
// activities in flight finish on live connections.
func RunWorker(ctx context.Context, cfg Config, c client.Client, pool *pgxpool.Pool, js jetstream.JetStream, log *slog.Logger) error {
	inj := faults.New(cfg.Faults)
	log.Info("order worker starting", "task_queue", cfg.OrdersTaskQueue, "step_timeout", cfg.StepTimeout,
		"fault_fail_rate", cfg.Faults.FailRate, "fault_hang_rate", cfg.Faults.HangRate, "fault_seed", inj.Seed())
	return temporalx.RunWorker(ctx, c, cfg.OrdersTaskQueue, cfg.Shutdown.Timeout, "order worker", log, func(w tworker.Registry) {
		Register(w, cfg.Settings(), &Activities{Pool: pool, JS: js, Faults: inj, Log: log})
	})
}
