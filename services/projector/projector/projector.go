// Package projector projects order events from the ORDER_EVENTS stream into
// PostgreSQL (tables orders and events) through Watermill. It owns the
// service's Config (config.go), its metrics (metrics.go), and Run and
// Rebuild (projector.go), which wire internal/app (how an event becomes a
// write, batching), internal/adapters (PostgreSQL) and internal/ports (the
// Watermill consumer). Run keeps the projection live; Rebuild replays the
// whole stream into an empty database. cmd/projector opens the connections
// and hands them to Run or Rebuild; tests and integration/stack do the same.
//
// Delivery is at-least-once and unordered across orders, so every write is
// idempotent and guarded by the per-order seq: duplicates and reordering
// never change the result. An event that can never be projected goes to
// contracts.DLQEvents with the reason; a transient failure (PostgreSQL down)
// is retried with backoff until it succeeds.
package projector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/projector/internal/adapters"
	"github.com/orderflow/orderflow/services/projector/internal/app"
	"github.com/orderflow/orderflow/services/projector/internal/ports"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
)

// Deps are the connections Run and Rebuild work with. The caller
// (cmd/projector, a test) opens them before and closes them after; each
// NATS connection may be drained and closed whatever state it is in.
type Deps struct {
	// NATS checks the streams, declares the consumer and publishes dead
	// letters.
	NATS *nats.Conn
	// Subscriber is the Watermill subscriber's connection: watermill-nats
	// drains it when the router stops, so it must not be shared and serves
	// one Run or Rebuild.
	Subscriber *nats.Conn
	Pool       *pgxpool.Pool
}

// Run projects events with the durable consumer cfg.Durable until ctx ends,
// then returns nil. It ensures the contract's streams exist (or, without
// NATS_PROVISION_STREAMS, that ORDER_EVENTS does) and declares the consumer.
func Run(ctx context.Context, cfg Config, deps Deps, log *slog.Logger, options ...Option) error {
	var ro runOptions
	for _, o := range options {
		o(&ro)
	}
	js, err := jetstream.New(deps.NATS)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	m := newMetrics(nil)
	if ro.ops != nil {
		m = newMetrics(ro.ops.Registry())
		ro.ops.Registry().MustRegister(ops.NewConsumerLag(js, contracts.StreamEvents, cfg.Durable), newOpenOrders(deps.Pool))
		ro.ops.AddCheck("consumer", ops.ConsumerCheck(js, contracts.StreamEvents, cfg.Durable))
	}
	ensure := natsx.EnsureStreams
	if !cfg.NATS.ProvisionStreams {
		ensure = func(ctx context.Context, js jetstream.JetStream) error {
			return natsx.CheckStreams(ctx, js, contracts.StreamEvents)
		}
	}
	if err := ensure(ctx, js); err != nil {
		return err
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, contracts.StreamEvents, consumerConfig(cfg, cfg.Durable)); err != nil {
		return fmt.Errorf("create consumer %s: %w", cfg.Durable, err)
	}
	log.Info("projecting order events", "consumer", cfg.Durable, "batch_size", batchSize(cfg), "concurrency", cfg.Concurrency)
	if err := consume(ctx, cfg, deps, js, cfg.Durable, m, log); err != nil {
		return err
	}
	log.Info("projector stopped")
	return nil
}

// Option adjusts Run.
type Option func(*runOptions)

type runOptions struct{ ops *ops.Server }

// WithOps registers the projector's metrics, its consumer's lag and the
// consumer's readiness check with srv (the connections' checks are added
// by whoever opened them: app.Conns in cmd/projector).
func WithOps(srv *ops.Server) Option { return func(o *runOptions) { o.ops = srv } }

// Rebuild replays ORDER_EVENTS from its first message into an empty
// projection (migrations applied, no rows) and returns once every event
// that was in the stream when it started has been projected or
// dead-lettered. It uses a temporary consumer, so the live projector's
// position is untouched; run it while the live projector is stopped, then
// start the projector on the rebuilt database.
func Rebuild(ctx context.Context, cfg Config, deps Deps, log *slog.Logger) error {
	empty, err := adapters.NewStore(deps.Pool).IsEmpty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return errors.New("rebuild needs an empty database: orders or events already has rows")
	}
	js, err := jetstream.New(deps.NATS)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	stream, err := js.Stream(ctx, contracts.StreamEvents)
	if err != nil {
		return fmt.Errorf("stream %s: %w", contracts.StreamEvents, err)
	}
	target := stream.CachedInfo().State.LastSeq
	log.Info("rebuilding projection", "stream", contracts.StreamEvents, "up_to_seq", target)
	if target == 0 {
		return nil
	}

	name := cfg.Durable + "-rebuild-" + randomSuffix()
	cc := consumerConfig(cfg, name)
	cc.InactiveThreshold = 5 * time.Minute // removed by the server if we die midway
	consumer, err := js.CreateOrUpdateConsumer(ctx, contracts.StreamEvents, cc)
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", name, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := js.DeleteConsumer(dctx, contracts.StreamEvents, name); err != nil {
			log.Warn("delete rebuild consumer", "consumer", name, logging.Err(err))
		}
	}()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- consume(runCtx, cfg, deps, js, name, newMetrics(nil), log) }()

	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("rebuild stopped before catching up: %w", err)
		case <-tick.C:
		}
		info, err := consumer.Info(ctx)
		if err != nil {
			log.Warn("rebuild progress", logging.Err(err))
			continue
		}
		if info.AckFloor.Stream >= target {
			stop()
			if err := <-done; err != nil {
				return err
			}
			log.Info("rebuild caught up", "up_to_seq", target)
			return nil
		}
	}
}

func consumerConfig(cfg Config, name string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "orderflow projector: order events into PostgreSQL",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1, // bounded by PROJECTOR_MAX_DELIVERIES in the handler, never by the server
		MaxAckPending: cfg.MaxAckPending,
		FilterSubject: contracts.EventsWildcard,
	}
}

// consume projects with the existing consumer name until ctx ends: the
// store, batched when cfg allows, behind the Watermill consumer.
func consume(ctx context.Context, cfg Config, deps Deps, js jetstream.JetStream, name string, m *metrics, log *slog.Logger) error {
	store := timedWriter{w: adapters.NewStore(deps.Pool), m: m}
	var proj app.Projector = app.Single{W: store}
	bctx, stopBatcher := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBatcher()
	if n := batchSize(cfg); n > 1 {
		b := app.NewBatcher(store, n, cfg.FlushInterval, log)
		go b.Run(bctx)
		proj = b
	}
	return ports.Consume(ctx, deps.Subscriber, js, observedProjector{p: proj, m: m}, ports.ConsumerOptions{
		Durable:            name,
		AckWait:            cfg.AckWait,
		Concurrency:        cfg.Concurrency,
		MaxAckPending:      cfg.MaxAckPending,
		Retries:            cfg.Retries,
		MaxDeliveries:      cfg.MaxDeliveries,
		RedeliveryMaxDelay: cfg.RedeliveryMaxDelay,
		CloseTimeout:       cfg.Shutdown.Timeout,
		DeadLettered:       m.deadLettered,
	}, log)
}

// batchSize is the effective batch: more than Concurrency can never be in
// flight, so a larger batch would only ever flush on the timer.
func batchSize(cfg Config) int { return min(cfg.BatchSize, cfg.Concurrency) }

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
