// Command order-worker runs OrderWorkflow on the orders task queue. It is
// the only place that reads the configuration and opens the connections
// (PostgreSQL, NATS, Temporal); order.RunWorker uses them, and they close
// in reverse order once it has returned.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/services/order-worker/order"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// mainConfig is the worker's configuration plus the ops listener's address.
type mainConfig struct {
	order.Config
	// OpsAddr serves /metrics, /livez and /readyz; "off" disables it.
	OpsAddr string `env:"OPS_ADDR" envDefault:":9183"`
}

func main() { app.Main("order-worker", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[mainConfig]()
	if err != nil {
		return err
	}
	log := logging.New("order-worker", cfg.Log)
	return ops.Run(ctx, "order-worker", cfg.OpsAddr, cfg.Shutdown.Timeout, log, func(ctx context.Context, o *ops.Server, tel *ops.Telemetry) error {
		return serve(ctx, cfg.Config, log, o, tel)
	})
}

// serve opens the connections, runs the worker until ctx is done, and
// closes them (deferred, so in reverse order) after the worker has stopped.
func serve(ctx context.Context, cfg order.Config, log *slog.Logger, o *ops.Server, tel *ops.Telemetry) error {
	pool, err := pgxx.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close()
	o.AddCheck("postgres", ops.PostgresCheck(pool))

	nc, js, err := natsx.ConnectJetStream(ctx, cfg.NATS, "order-worker", log, contracts.StreamEvents)
	if err != nil {
		return err
	}
	defer drain(nc, cfg.Shutdown.Timeout, log)
	o.AddCheck("nats", ops.NATSCheck(nc))

	c, err := temporalx.Dial(ctx, cfg.Temporal, log, temporalx.WithMetrics(tel.TemporalMetrics()))
	if err != nil {
		return err
	}
	defer c.Close()
	o.AddCheck("temporal", ops.TemporalCheck(c))

	if err := order.RunWorker(ctx, cfg, c, pool, js, log); err != nil {
		return fmt.Errorf("order worker: %w", err)
	}
	return nil
}

// drain flushes what the connection still holds and waits, within timeout,
// until it has closed: the process must not exit with publishes in flight.
func drain(nc *nats.Conn, timeout time.Duration, log *slog.Logger) {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-closed:
	case <-time.After(timeout):
		log.Warn("nats drain timed out")
		nc.Close()
	}
}
