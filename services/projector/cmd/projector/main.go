// Command projector keeps the PostgreSQL projection of order events up to
// date. `projector rebuild` instead replays ORDER_EVENTS into an empty
// database and exits once it has caught up.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
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
	pool, err := pgxx.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close()
	if mode == "rebuild" {
		return projector.Rebuild(ctx, cfg, pool, log)
	}
	return ops.Run(ctx, "projector", cfg.OpsAddr, cfg.Shutdown.Timeout, log, func(ctx context.Context, o *ops.Server, _ *ops.Telemetry) error {
		return projector.Run(ctx, cfg, pool, log, projector.WithOps(o))
	})
}
