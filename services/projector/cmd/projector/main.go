// Command projector keeps the PostgreSQL projection of order events up to
// date. `projector rebuild` instead replays ORDER_EVENTS into an empty
// database and exits once it has caught up.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
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
	pcfg, err := pgxpool.ParseConfig(cfg.Postgres.URL)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = cfg.Postgres.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("postgres pool: %w", err)
	}
	defer pool.Close()
	if mode == "rebuild" {
		return projector.Rebuild(ctx, cfg, pool, log)
	}
	return projector.Run(ctx, cfg, pool, log)
}
