// Package bridge is the only path from order commands to Temporal: it
// consumes ORDER_COMMANDS, starts and signals OrderWorkflow, publishes every
// outcome on ORDER_RESULTS, dead-letters what can never be applied and
// answers live-status requests. Run is exported so tests and the dev stack
// can run the bridge in process.
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

	"github.com/orderflow/orderflow/services/bridge/internal/application"
	"github.com/orderflow/orderflow/services/bridge/internal/natsport"
	"github.com/orderflow/orderflow/services/bridge/internal/temporal"
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

// Run consumes commands and answers status requests until ctx ends, then
// stops intake, finishes in-flight work and returns. The streams must exist
// (natsx.EnsureStreams); nc and c stay open and belong to the caller.
func Run(ctx context.Context, cfg Config, nc *nats.Conn, c client.Client, log *slog.Logger, options ...Option) error {
	var ro runOptions
	for _, o := range options {
		o(&ro)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	dc, err := temporalx.DataConverter(cfg.Temporal)
	if err != nil {
		return err
	}
	wf := temporal.New(c, cfg.OrdersTaskQueue, dc)
	commands := application.NewCommands(wf, application.CommandOptions{
		CallTimeout:   cfg.CallTimeout,
		RetryMin:      cfg.RetryMin,
		RetryMax:      cfg.RetryMax,
		NotFoundGrace: cfg.NotFoundGrace,
	}, log)
	consumer := natsport.NewConsumer(nc, js, commands, natsport.ConsumerOptions{
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
		Metrics:       natsport.NewMetrics(ro.metrics),
	}, log)
	if ro.metrics != nil {
		if err := ro.metrics.Register(ops.NewConsumerLag(js, contracts.StreamCommands, cfg.Durable)); err != nil {
			return fmt.Errorf("register consumer lag: %w", err)
		}
	}
	status := application.NewStatus(wf)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return consumer.Run(gctx) })
	g.Go(func() error {
		return natsport.ServeStatus(gctx, nc, status, natsport.StatusOptions{
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
