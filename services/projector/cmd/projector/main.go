// Command projector keeps the PostgreSQL projection of order events up to
// date. `projector rebuild` instead replays ORDER_EVENTS into an empty
// database and exits once it has caught up. It is the only place that reads
// the projector's configuration and opens its connections.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/pgxx"
)

func main() { app.Main("projector", run) }

func run(ctx context.Context) error {
	mode := "run"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if mode != "run" && mode != "rebuild" {
		return fmt.Errorf("usage: projector [run|rebuild]")
	}
	cfg, err := config.Load[projector.Config]()
	if err != nil {
		return err
	}
	log := logging.New("projector", cfg.Log)
	if mode == "rebuild" {
		return withDeps(ctx, cfg, "projector-rebuild", log, func(deps projector.Deps) error {
			return projector.Rebuild(ctx, cfg, deps, log)
		})
	}
	return ops.Run(ctx, "projector", cfg.OpsAddr, cfg.Shutdown.Timeout, log, func(ctx context.Context, o *ops.Server, _ *ops.Telemetry) error {
		return withDeps(ctx, cfg, "projector-admin", log, func(deps projector.Deps) error {
			return projector.Run(ctx, cfg, deps, log, projector.WithOps(o))
		})
	})
}

// withDeps opens the connections, runs f on them and closes them in order:
// f returns once intake has stopped (the router drained the subscriber's
// connection) and in-flight events are settled; then the other NATS
// connection is drained (dead letters still in flight go out) and the pool
// closed, each within the shutdown timeout. name names the connection that
// is not the subscriber's, as NATS monitoring shows it.
func withDeps(ctx context.Context, cfg projector.Config, name string, log *slog.Logger, f func(projector.Deps) error) error {
	pool, err := pgxx.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer func() {
		if !app.CloseWithin(cfg.Shutdown.Timeout, pool.Close) {
			log.Warn("postgres pool did not close in time")
		}
	}()
	nc, err := natsx.Connect(cfg.NATS, name, log)
	if err != nil {
		return err
	}
	defer app.DrainNATS(nc, cfg.Shutdown.Timeout, log)
	sub, err := natsx.Connect(cfg.NATS, "projector-consumer", log)
	if err != nil {
		return err
	}
	defer app.DrainNATS(sub, cfg.Shutdown.Timeout, log)
	return f(projector.Deps{NATS: nc, Subscriber: sub, Pool: pool})
}
