// Command api serves orderflow's HTTP API; see package api. It is the only
// place that reads the API's configuration and opens its connections.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/pgxx"
)

func main() { app.Main("api", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[api.Config]()
	if err != nil {
		return err
	}
	log := logging.New("api", cfg.Log)
	return ops.Run(ctx, "api", cfg.OpsAddr, cfg.Shutdown.Timeout, log, func(ctx context.Context, o *ops.Server, _ *ops.Telemetry) error {
		return serve(ctx, cfg, log, o)
	})
}

// serve connects NATS and PostgreSQL, runs the API on them until ctx ends,
// then shuts down in order: stop accepting and finish in-flight requests
// (api.Run), drain NATS, close the pool, all within cfg.Shutdown.Timeout.
func serve(ctx context.Context, cfg api.Config, log *slog.Logger, o *ops.Server) error {
	nc, _, err := natsx.ConnectJetStream(ctx, cfg.NATS, "orderflow-api", log, contracts.StreamCommands, contracts.StreamResults)
	if err != nil {
		return err
	}
	defer nc.Close()

	pool, err := pgxx.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close() // last: after the drain below

	o.AddCheck("nats", ops.NATSCheck(nc))
	o.AddCheck("postgres", ops.PostgresCheck(pool))
	done := make(chan error, 1)
	go func() { done <- api.Run(ctx, cfg, api.Deps{NATS: nc, DB: pool, Log: log, Metrics: o.Registry()}) }()
	select {
	case err := <-done:
		return err // failed before any shutdown: closed, not drained, as before
	case <-ctx.Done():
	}
	// One budget for the HTTP shutdown and the drain, from the signal on.
	deadline := time.Now().Add(cfg.Shutdown.Timeout)
	if err := <-done; err != nil {
		return err
	}

	drained := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(drained) })
	if err := nc.Drain(); err != nil {
		log.Warn("nats drain", "error", err)
	} else {
		select {
		case <-drained:
		case <-time.After(time.Until(deadline)):
			log.Warn("nats drain timed out")
		}
	}
	log.Info("api stopped")
	return nil
}
