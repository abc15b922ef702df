// Package pgxx opens the PostgreSQL pool every service uses the same way,
// its settings checked first (config.Postgres.Validate).
package pgxx

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/shared/config"
)

// Open creates a pool sized by cfg. It does not wait for the server: pgx
// connects lazily, so a service starts even while PostgreSQL is still down
// and readiness checks report it.
func Open(ctx context.Context, cfg config.Postgres) (*pgxpool.Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	return pool, nil
}
