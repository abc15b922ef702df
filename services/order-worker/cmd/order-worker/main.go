// Command order-worker runs OrderWorkflow on the orders task queue; see
// package order. It is the only place that reads the worker's
// configuration and opens its connections.
package main

import (
	"context"
	"fmt"

	"github.com/orderflow/orderflow/services/order-worker/order"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

func main() { app.Main("order-worker", run) }

// run opens PostgreSQL (payments), NATS (events) and Temporal, and runs the
// worker on them. On the way out order.RunWorker stops the worker once its
// activities have finished, then the Temporal client closes, NATS is
// drained (no publish left in flight) and the pool closed (app.Serve: last
// opened first).
func run(ctx context.Context) error {
	cfg, err := config.Load[order.Config]()
	if err != nil {
		return err
	}
	return app.Serve(ctx, "order-worker", cfg.Log, cfg.OpsAddr, cfg.Shutdown, func(ctx context.Context, s *app.Service) error {
		pool, err := pgxx.Open(ctx, cfg.Postgres)
		if err != nil {
			return err
		}
		s.AddPostgres(pool)
		nc, js, err := natsx.ConnectJetStream(ctx, cfg.NATS, "order-worker", s.Log, contracts.StreamEvents)
		if err != nil {
			return err
		}
		s.AddNATS(nc)
		tc, err := temporalx.Dial(ctx, cfg.Temporal, s.Log, temporalx.WithMetrics(s.Telemetry.TemporalMetrics()))
		if err != nil {
			return err
		}
		s.AddTemporal(tc)

		if err := order.RunWorker(ctx, cfg, tc, pool, js, s.Log); err != nil {
			return fmt.Errorf("order worker: %w", err)
		}
		return nil
	})
}
