// Command bridge turns order commands on NATS into Temporal workflow starts
// and signals, and answers live-status requests.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/temporalx"
)

func main() { app.Main("bridge", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[bridge.Config]()
	if err != nil {
		return err
	}
	log := logging.New("bridge", cfg.Log)
	return ops.Run(ctx, "bridge", cfg.OpsAddr, cfg.Shutdown.Timeout, log, func(ctx context.Context, o *ops.Server, tel *ops.Telemetry) error {
		return serve(ctx, cfg, log, o, tel)
	})
}

func serve(ctx context.Context, cfg bridge.Config, log *slog.Logger, o *ops.Server, tel *ops.Telemetry) error {
	nc, js, err := natsx.ConnectJetStream(ctx, cfg.NATS, "bridge", log, contracts.StreamCommands)
	if err != nil {
		return err
	}
	defer nc.Close()

	o.AddCheck("nats", ops.NATSCheck(nc))
	tc, err := temporalx.Dial(ctx, cfg.Temporal, log, temporalx.WithMetrics(tel.TemporalMetrics()))
	if err != nil {
		return err
	}
	defer tc.Close()

	log.Info("bridge starting", "temporal", cfg.Temporal.Address, "nats", cfg.NATS.URL, "task_queue", cfg.OrdersTaskQueue)
	// Run returns once intake has stopped and in-flight commands are settled
	// or handed back; the shutdown timeout bounds what follows.
	o.AddCheck("temporal", ops.TemporalCheck(tc))
	o.AddCheck("consumer", ops.ConsumerCheck(js, contracts.StreamCommands, cfg.Durable))
	runErr := bridge.Run(ctx, cfg, nc, tc, log, bridge.WithMetrics(o.Registry()))
	drained := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(drained) })
	if err := nc.Drain(); err == nil {
		select {
		case <-drained:
		case <-time.After(cfg.Shutdown.Timeout):
			log.Warn("nats drain timed out")
		}
	}
	log.Info("bridge stopped")
	return runErr
}
