package order

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/client"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/faults"
)

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

// RunWorker serves the orders task queue until ctx is done.
func RunWorker(ctx context.Context, cfg Config, c client.Client, pool *pgxpool.Pool, js jetstream.JetStream, log *slog.Logger) error {
	inj := faults.New(cfg.Faults)
	log.Info("order worker starting", "task_queue", cfg.OrdersTaskQueue, "step_timeout", cfg.StepTimeout,
		"fault_fail_rate", cfg.Faults.FailRate, "fault_hang_rate", cfg.Faults.HangRate, "fault_seed", inj.Seed())
	w := tworker.New(c, cfg.OrdersTaskQueue, tworker.Options{
		WorkerStopTimeout: cfg.Shutdown.Timeout,
	})
	Register(w, cfg.Settings(), &Activities{Pool: pool, JS: js, Faults: inj, Log: log})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start order worker: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	log.Info("order worker stopped")
	return nil
}
