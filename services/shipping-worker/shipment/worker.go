package shipment

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// Config is everything the shipping worker reads from the environment.
// Timing settings (step timeout, dispatch attempts) are not here: the parent
// passes them in ShippingInput, so both workflows use the values recorded at
// order start.
type Config struct {
	config.Log
	config.Postgres // the simulated carrier's parcels table
	config.Temporal
	config.Shutdown
	Faults faults.Config
	// OpsAddr serves /metrics, /livez and /readyz; "off" disables it.
	OpsAddr string `env:"OPS_ADDR" envDefault:":9184"`
}

// OpsAddress is OpsAddr, for app.Run.
func (c Config) OpsAddress() string { return c.OpsAddr }

// Validate checks what the environment cannot express with defaults.
func (c Config) Validate() error {
	var p config.Problems
	p.Add(c.Temporal.Validate(), c.Shutdown.Validate(), c.Faults.Validate())
	return p.Err()
}

// Register adds ShippingWorkflow and the activities to r (a worker or a
// test environment).
func Register(r tworker.Registry, a *Activities) {
	RegisterWorkflow(r)
	r.RegisterActivity(a)
}

// RegisterWorkflow adds ShippingWorkflow alone, as a replayer needs it.
func RegisterWorkflow(r tworker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(ShippingWorkflow, workflow.RegisterOptions{Name: contracts.WorkflowShipping})
}

// RunWorker serves the shipping task queue until ctx is done. The caller
// opened c and pool and closes them once RunWorker has returned, so
// activities in flight finish on live connections.
func RunWorker(ctx context.Context, cfg Config, c client.Client, pool *pgxpool.Pool, log *slog.Logger) error {
	inj := faults.New(cfg.Faults)
	log.Info("shipping worker starting", "task_queue", cfg.ShippingTaskQueue,
		"fault_fail_rate", cfg.Faults.FailRate, "fault_hang_rate", cfg.Faults.HangRate, "fault_seed", inj.Seed())
	return temporalx.RunWorker(ctx, c, cfg.ShippingTaskQueue, cfg.Shutdown.Timeout, "shipping worker", log, func(w tworker.Registry) {
		Register(w, &Activities{Faults: inj, Carrier: SimulatedCarrier{Pool: pool}, Log: log})
	})
}
