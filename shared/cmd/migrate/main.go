// Command migrate applies the database migrations and exits: the one-shot
// step a container deployment runs before the services (deploy/compose).
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/migrations"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
)

// Config is everything migrate reads from the environment.
type Config struct {
	config.Log
	config.Postgres
	// Wait is how long to keep retrying while PostgreSQL does not answer yet,
	// so the step may start together with the database.
	Wait time.Duration `env:"MIGRATE_WAIT" envDefault:"60s"`
}

func main() { app.Main("migrate", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[Config]()
	if err != nil {
		return err
	}
	log := logging.New("migrate", cfg.Log)
	ctx, cancel := context.WithTimeout(ctx, cfg.Wait)
	defer cancel()
	for {
		err = migrations.Up(ctx, cfg.URL)
		if err == nil {
			log.Info("migrations applied")
			return nil
		}
		log.Warn("migrations not applied yet", "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate: gave up after %s: %w", cfg.Wait, err)
		case <-time.After(time.Second):
		}
	}
}
