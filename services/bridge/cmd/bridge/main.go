// Command bridge turns order commands on NATS into Temporal workflow starts
// and signals, and answers live-status requests; see package bridge. It is
// the only place that reads the bridge's configuration and opens its
// connections.
package main

import (
	"context"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/temporalx"
)

func main() { app.Main("bridge", run) }

// run opens Temporal, then NATS, and runs the bridge on them. On the way
// out bridge.Run stops intake and settles or hands back in-flight commands,
// then NATS is drained (results and dead letters still in flight go out)
// and the Temporal client closed (app.Serve: last opened first).
func run(ctx context.Context) error {
	cfg, err := config.Load[bridge.Config]()
	if err != nil {
		return err
	}
	return app.Serve(ctx, "bridge", cfg.Log, cfg.OpsAddr, cfg.Shutdown, func(ctx context.Context, s *app.Service) error {
		tc, err := temporalx.Dial(ctx, cfg.Temporal, s.Log, temporalx.WithMetrics(s.Telemetry.TemporalMetrics()))
		if err != nil {
			return err
		}
		s.AddTemporal(tc)
		nc, js, err := natsx.ConnectJetStream(ctx, cfg.NATS, "bridge", s.Log, contracts.StreamCommands)
		if err != nil {
			return err
		}
		s.AddNATS(nc)
		s.Ops.AddCheck("consumer", ops.ConsumerCheck(js, contracts.StreamCommands, cfg.Durable))

		s.Log.Info("bridge starting", "temporal", cfg.Temporal.Address, "nats", cfg.NATS.URL, "task_queue", cfg.OrdersTaskQueue)
		return bridge.Run(ctx, cfg, bridge.Deps{NATS: nc, Temporal: tc}, s.Log, bridge.WithMetrics(s.Ops.Registry()))
	})
}
