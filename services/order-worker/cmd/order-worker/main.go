// Command order-worker runs OrderWorkflow on the orders task queue.
package main

import (
	"context"
	"fmt"

	"github.com/orderflow/orderflow/services/order-worker/worker"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

func main() { app.Main("order-worker", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[worker.Config]()
	if err != nil {
		return err
	}
	log := logging.New("order-worker", cfg.Log)

	pool, err := pgxx.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close()

	nc, js, err := natsx.ConnectJetStream(ctx, cfg.NATS.URL, "order-worker", log)
	if err != nil {
		return err
	}
	// Drain after the worker has stopped, so in-flight publishes finish.
	defer func() { _ = nc.Drain() }()

	c, err := temporalx.Dial(ctx, cfg.Temporal, log)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := worker.RunWorker(ctx, cfg, c, pool, js, log); err != nil {
		return fmt.Errorf("order worker: %w", err)
	}
	return nil
}
