// Command shipping-worker runs ShippingWorkflow on the shipping task queue.
package main

import (
	"context"
	"fmt"

	"github.com/orderflow/orderflow/services/shipping-worker/worker"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

func main() { app.Main("shipping-worker", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[worker.Config]()
	if err != nil {
		return err
	}
	log := logging.New("shipping-worker", cfg.Log)
	pool, err := pgxx.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close()
	c, err := temporalx.Dial(ctx, cfg.Temporal, log)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := worker.RunWorker(ctx, cfg, c, pool, log); err != nil {
		return fmt.Errorf("shipping worker: %w", err)
	}
	return nil
}
