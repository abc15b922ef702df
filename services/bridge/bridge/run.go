// Package bridge is the only path from order commands to Temporal: it
// consumes ORDER_COMMANDS, starts and signals OrderWorkflow, publishes every
// outcome on ORDER_RESULTS, dead-letters what can never be applied and
// answers live-status requests. It owns the service's Config (config.go)
// and Run (run.go), which wires internal/app (what a command does),
// internal/adapters (Temporal) and internal/ports (the NATS consumer and
// status handler). cmd/bridge opens the connections and hands them to Run;
// tests and integration/stack run it in process the same way.
package bridge

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/orderflow/orderflow/services/bridge/internal/adapters"
	"github.com/orderflow/orderflow/services/bridge/internal/app"
	"github.com/orderflow/orderflow/services/bridge/internal/ports"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// Option adjusts Run.
type Option func(*runOptions)

type runOptions struct{ metrics prometheus.Registerer }

// WithMetrics registers the bridge's command metrics and its consumer's lag
// with reg.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(o *runOptions) { o.metrics = reg }
}

// Deps are the connections Run works with. The caller (cmd/bridge, a test)
// opens them before Run and closes them after it returns.
type Deps struct {
	NATS     *nats.Conn
	Temporal client.Client
}

// Run consumes commands and answers status requests until ctx ends, then
// stops intake, finishes in-flight work and returns. The streams must exist
// (natsx.EnsureStreams).
func Run(ctx context.Context, cfg Config, deps Deps, log *slog.Logger, options ...Option) error {
	var ro runOptions
	for _, o := range options {
		o(&ro)
	}
	nc := deps.NATS
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	dc, err := temporalx.DataConverter(cfg.Temporal)
	if err != nil {
		return err
	}
	wf := adapters.NewWorkflows(deps.Temporal, cfg.OrdersTaskQueue, dc)
	commands := app.NewCommands(wf, app.CommandOptions{
		CallTimeout:   cfg.CallTimeout,
		RetryMin:      cfg.RetryMin,
		RetryMax:      cfg.RetryMax,
		NotFoundGrace: cfg.NotFoundGrace,
	}, log)
	consumer := ports.NewConsumer(nc, js, commands, ports.ConsumerOptions{
		Durable:       cfg.Durable,
		Queue:         cfg.StatusQueue,
		Partitions:    cfg.Partitions,
		FetchBatch:    cfg.FetchBatch,
		MaxAckPending: cfg.MaxAckPending,
		MaxDeliver:    cfg.MaxDeliver,
		AckWait:       cfg.AckWait,
		CallTimeout:   cfg.CallTimeout,
		RetryMin:      cfg.RetryMin,
		RetryMax:      cfg.RetryMax,
		ReorderWindow: cfg.ReorderWindow,
		PinnedTTL:     cfg.PinnedTTL,
		Metrics:       ports.NewMetrics(ro.metrics),
	}, log)
	if ro.metrics != nil {
		if err := ro.metrics.Register(ops.NewConsumerLag(js, contracts.StreamCommands, cfg.Durable)); err != nil {
			return fmt.Errorf("register consumer lag: %w", err)
		}
	}
	status := app.NewStatus(wf)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return consumer.Run(gctx) })
	g.Go(func() error {
		return ports.ServeStatus(gctx, nc, status, ports.StatusOptions{
			Queue:       cfg.StatusQueue,
			Timeout:     cfg.StatusTimeout,
			Concurrency: cfg.StatusConcurrency,
		}, log)
	})
	if err := g.Wait(); err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	return nil
}
