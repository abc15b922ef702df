// Command bridge turns order commands on NATS into Temporal workflow starts
// and signals, and answers live-status requests.
package main

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

func main() { app.Main("bridge", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[bridge.Config]()
	if err != nil {
		return err
	}
	log := logging.New("bridge", cfg.Log)

	nc, _, err := natsx.ConnectJetStream(ctx, cfg.NATS.URL, "bridge", log)
	if err != nil {
		return err
	}
	defer nc.Close()

	tc, err := temporalx.Dial(ctx, cfg.Temporal, log)
	if err != nil {
		return err
	}
	defer tc.Close()

	log.Info("bridge starting", "temporal", cfg.Temporal.Address, "nats", cfg.NATS.URL, "task_queue", cfg.OrdersTaskQueue)
	// Run returns once intake has stopped and in-flight commands are settled
	// or handed back; the shutdown timeout bounds what follows.
	runErr := bridge.Run(ctx, cfg, nc, tc, log)
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
