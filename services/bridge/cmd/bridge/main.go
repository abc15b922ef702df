// Command bridge turns order commands on NATS into Temporal workflow starts
// and signals, and answers live-status requests. It is the only place that
// reads the bridge's configuration and opens its connections.
package main

import (
	"context"
	"log/slog"

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

// serve opens the connections, runs the bridge on them and closes them in
// order: Run returns once intake has stopped and in-flight commands are
// settled or handed back; then NATS is drained (results and dead letters
// still in flight go out) and the Temporal client closed, each within the
// shutdown timeout.
func serve(ctx context.Context, cfg bridge.Config, log *slog.Logger, o *ops.Server, tel *ops.Telemetry) error {
	nc, js, err := natsx.ConnectJetStream(ctx, cfg.NATS, "bridge", log, contracts.StreamCommands)
	if err != nil {
		return err
	}
	defer nc.Close() // on an early return; a no-op once drained
	o.AddCheck("nats", ops.NATSCheck(nc))
	tc, err := temporalx.Dial(ctx, cfg.Temporal, log, temporalx.WithMetrics(tel.TemporalMetrics()))
	if err != nil {
		return err
	}
	o.AddCheck("temporal", ops.TemporalCheck(tc))
	o.AddCheck("consumer", ops.ConsumerCheck(js, contracts.StreamCommands, cfg.Durable))

	log.Info("bridge starting", "temporal", cfg.Temporal.Address, "nats", cfg.NATS.URL, "task_queue", cfg.OrdersTaskQueue)
	runErr := bridge.Run(ctx, cfg, bridge.Deps{NATS: nc, Temporal: tc}, log, bridge.WithMetrics(o.Registry()))
	app.DrainNATS(nc, cfg.Shutdown.Timeout, log)
	if !app.CloseWithin(cfg.Shutdown.Timeout, tc.Close) {
		log.Warn("temporal client did not close in time")
	}
	log.Info("bridge stopped")
	return runErr
}
