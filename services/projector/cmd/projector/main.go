// Command projector keeps the PostgreSQL projection of order events up to
// date; see package projector. `projector rebuild` instead replays
// ORDER_EVENTS into an empty database and exits once it has caught up. It
// is the only place that reads the projector's configuration and opens its
// connections.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
)

func main() {
	mode := "run"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "run":
		app.Run("projector", serve)
	case "rebuild":
		app.Main("projector", rebuild)
	default: // app.Main answers --version before run
		app.Main("projector", func(context.Context) error { return errors.New("usage: projector [run|rebuild]") })
	}
}

// serve opens the connections (connect) and runs the projector on them. On
// the way out projector.Run stops intake (the router drains the
// subscriber's connection) and settles in-flight events, then the
// connections close last opened first: the subscriber's, the other NATS
// connection (dead letters still in flight go out), the pool.
func serve(ctx context.Context, cfg projector.Config, s *app.Service) error {
	deps, err := connect(ctx, cfg, "projector-admin", s.Log, s.Conns)
	if err != nil {
		return err
	}
	return projector.Run(ctx, cfg, deps, s.Log, projector.WithOps(s.Ops))
}

// rebuild opens the connections without the ops listener and replays the
// events (projector.Rebuild).
func rebuild(ctx context.Context) error {
	cfg, err := config.Load[projector.Config]()
	if err != nil {
		return err
	}
	log := logging.New("projector", cfg.Log)
	conns := app.NewConns(cfg.Shutdown.Timeout, log)
	defer conns.Close()
	deps, err := connect(ctx, cfg, "projector-rebuild", log, conns)
	if err != nil {
		return err
	}
	return projector.Rebuild(ctx, cfg, deps, log)
}

// connect opens PostgreSQL, the NATS connection for streams, the consumer
// and dead letters (named name, as NATS monitoring shows it), and the
// Watermill subscriber's own, adding each to conns.
func connect(ctx context.Context, cfg projector.Config, name string, log *slog.Logger, conns *app.Conns) (projector.Deps, error) {
	pool, err := conns.OpenPostgres(ctx, cfg.Postgres)
	if err != nil {
		return projector.Deps{}, err
	}
	nc, err := conns.ConnectNATS(cfg.NATS, name)
	if err != nil {
		return projector.Deps{}, err
	}
	sub, err := natsx.Connect(cfg.NATS, "projector-consumer", log)
	if err != nil {
		return projector.Deps{}, err
	}
	conns.AddNATSSubscriber(sub)
	return projector.Deps{NATS: nc, Subscriber: sub, Pool: pool}, nil
}
