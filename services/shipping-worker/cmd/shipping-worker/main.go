// Command shipping-worker runs ShippingWorkflow on the shipping task queue;
// see package shipment. It is the only place that reads the worker's
// configuration and opens its connections. The shipping worker sends no
// NATS traffic.
package main

import (
	"context"
	"fmt"

	"github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

func main() { app.Main("shipping-worker", run) }

// run opens PostgreSQL (the simulated carrier's parcels) and Temporal, and
// runs the worker on them. On the way out shipment.RunWorker stops the
// worker once its activities have finished, then the Temporal client and
// the pool close (app.Serve: last opened first).
func run(ctx context.Context) error {
	cfg, err := config.Load[shipment.Config]()
	if err != nil {
		return err
	}
	return app.Serve(ctx, "shipping-worker", cfg.Log, cfg.OpsAddr, cfg.Shutdown, func(ctx context.Context, s *app.Service) error {
		pool, err := pgxx.Open(ctx, cfg.Postgres)
		if err != nil {
			return err
		}
		s.AddPostgres(pool)
		tc, err := temporalx.Dial(ctx, cfg.Temporal, s.Log, temporalx.WithMetrics(s.Telemetry.TemporalMetrics()))
		if err != nil {
			return err
		}
		s.AddTemporal(tc)

		if err := shipment.RunWorker(ctx, cfg, tc, pool, s.Log); err != nil {
			return fmt.Errorf("shipping worker: %w", err)
		}
		return nil
	})
}
