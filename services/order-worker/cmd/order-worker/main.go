// Command order-worker runs OrderWorkflow on the orders task queue; see
// package order. It is the only place that reads the worker's
// configuration and opens its connections.
package main

import (
	"context"
	"fmt"

	"github.com/orderflow/orderflow/services/order-worker/order"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/contracts"
)

func main() { app.Run("order-worker", serve) }

// serve opens PostgreSQL (payments), NATS (events) and Temporal, and runs
// the worker on them. On the way out order.RunWorker stops the worker once
// its activities have finished, then the Temporal client closes, NATS is
// drained (no publish left in flight) and the pool closed (app.Serve: last
// opened first).
func serve(ctx context.Context, cfg order.Config, s *app.Service) error {
	pool, err := s.OpenPostgres(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	_, js, err := s.ConnectJetStream(ctx, cfg.NATS, "order-worker", contracts.StreamEvents)
	if err != nil {
		return err
	}
	tc, err := s.DialTemporal(ctx, cfg.Temporal)
	if err != nil {
		return err
	}
	if err := order.RunWorker(ctx, cfg, tc, pool, js, s.Log); err != nil {
		return fmt.Errorf("order worker: %w", err)
	}
	return nil
}
