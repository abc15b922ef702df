// Package config loads a service's configuration from the environment, once,
// in main. Each service declares one struct; the shared pieces below are
// embedded so a variable means the same thing in every service.
package config

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/caarlos0/env/v11"
)

// Load fills T from the environment, applying `envDefault` tags, and runs
// T's Validate method when it has one.
func Load[T any]() (T, error) {
	var cfg T
	if err := env.Parse(&cfg); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if v, ok := any(&cfg).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
	}
	return cfg, nil
}

// Log configures log/slog.
type Log struct {
	Level  slog.Level `env:"LOG_LEVEL" envDefault:"info"`
	Format string     `env:"LOG_FORMAT" envDefault:"text"` // text or json
}

// NATS locates the broker.
type NATS struct {
	URL string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
}

// Postgres locates the database.
type Postgres struct {
	URL      string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/orderflow?sslmode=disable"`
	MaxConns int32  `env:"DATABASE_MAX_CONNS" envDefault:"10"`
}

// Temporal locates the Temporal frontend and the task queues.
type Temporal struct {
	Address           string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	Namespace         string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	OrdersTaskQueue   string `env:"ORDERS_TASK_QUEUE" envDefault:"orders-tq"`
	ShippingTaskQueue string `env:"SHIPPING_TASK_QUEUE" envDefault:"shipping-tq"`
}

// Shutdown bounds graceful shutdown.
type Shutdown struct {
	Timeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
}
