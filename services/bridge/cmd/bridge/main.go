// Command bridge turns order commands on NATS into Temporal workflow starts
// and signals, and answers live-status requests; see package bridge. It is
// the only place that reads the bridge's configuration and opens its
// connections.
package main

import (
	"context"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/ops"
)

func main() { app.Run("bridge", serve) }

// serve opens Temporal, then NATS, and runs the bridge on them. On the way
// out bridge.Run stops intake and settles or hands back in-flight commands,
// then NATS is drained (results and dead letters still in flight go out)
// and the Temporal client closed (app.Serve: last opened first).
func serve(ctx context.Context, cfg bridge.Config, s *app.Service) error {
	tc, err := s.DialTemporal(ctx, cfg.Temporal)
	if err != nil {
		return err
	}
	nc, js, err := s.ConnectJetStream(ctx, cfg.NATS, "bridge", contracts.StreamCommands)
	if err != nil {
		return err
	}
	s.Ops.AddCheck("consumer", ops.ConsumerCheck(js, contracts.StreamCommands, cfg.Durable))

	s.Log.Info("bridge starting", "temporal", cfg.Temporal.Address, "nats", cfg.NATS.URL, "task_queue", cfg.OrdersTaskQueue)
	return bridge.Run(ctx, cfg, bridge.Deps{NATS: nc, Temporal: tc}, s.Log, bridge.WithMetrics(s.Ops.Registry()))
}
