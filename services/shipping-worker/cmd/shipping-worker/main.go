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
)

func main() { app.Run("shipping-worker", serve) }

// serve opens PostgreSQL (the simulated carrier's parcels) and Temporal,
// and runs the worker on them. On the way out shipment.RunWorker stops the
// worker once its activities have finished, then the Temporal client and
// the pool close (app.Serve: last opened first).
func serve(ctx context.Context, cfg shipment.Config, s *app.Service) error {
	pool, err := s.OpenPostgres(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	tc, err := s.DialTemporal(ctx, cfg.Temporal)
	if err != nil {
		return err
	}
	if err := shipment.RunWorker(ctx, cfg, tc, pool, s.Log); err != nil {
		return fmt.Errorf("shipping worker: %w", err)
	}
	return nil
}
