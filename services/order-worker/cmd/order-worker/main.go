// Command order-worker runs OrderWorkflow on the orders task queue.
package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/order-worker/worker"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

func main() { app.Main("order-worker", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[worker.Config]()
	if err != nil {
		return err
	}
	log := logging.New("order-worker", cfg.Log)

	pcfg, err := pgxpool.ParseConfig(cfg.Postgres.URL)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = cfg.Postgres.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("open database pool: %w", err)
	}
	defer pool.Close()

	nc, err := natsx.Connect(cfg.NATS.URL, "order-worker", log)
	if err != nil {
		return err
	}
	// Drain after the worker has stopped, so in-flight publishes finish.
	defer func() { _ = nc.Drain() }()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if err := natsx.EnsureStreams(ctx, js); err != nil {
		return err
	}

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
