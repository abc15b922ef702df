// Command shipping-worker runs ShippingWorkflow on the shipping task queue.
// It is the only place that reads the configuration and opens the
// connections (PostgreSQL for the simulated carrier, Temporal);
// shipment.RunWorker uses them, and they close in reverse order once it has
// returned. The shipping worker sends no NATS traffic.
package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// mainConfig is the worker's configuration plus the ops listener's address.
type mainConfig struct {
	shipment.Config
	// OpsAddr serves /metrics, /livez and /readyz; "off" disables it.
	OpsAddr string `env:"OPS_ADDR" envDefault:":9184"`
}

func main() { app.Main("shipping-worker", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[mainConfig]()
	if err != nil {
		return err
	}
	log := logging.New("shipping-worker", cfg.Log)
	return ops.Run(ctx, "shipping-worker", cfg.OpsAddr, cfg.Shutdown.Timeout, log, func(ctx context.Context, o *ops.Server, tel *ops.Telemetry) error {
		return serve(ctx, cfg.Config, log, o, tel)
	})
}

// serve opens the connections, runs the worker until ctx is done, and
// closes them (deferred, so in reverse order) after the worker has stopped.
func serve(ctx context.Context, cfg shipment.Config, log *slog.Logger, o *ops.Server, tel *ops.Telemetry) error {
	pool, err := pgxx.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close()
	o.AddCheck("postgres", ops.PostgresCheck(pool))

	c, err := temporalx.Dial(ctx, cfg.Temporal, log, temporalx.WithMetrics(tel.TemporalMetrics()))
	if err != nil {
		return err
	}
	defer c.Close()
	o.AddCheck("temporal", ops.TemporalCheck(c))

	if err := shipment.RunWorker(ctx, cfg, c, pool, log); err != nil {
		return fmt.Errorf("shipping worker: %w", err)
	}
	return nil
}
