// Package projector projects order events from the ORDER_EVENTS stream into
// PostgreSQL (tables orders and events) through Watermill. Run keeps the
// projection live; Rebuild replays the whole stream into an empty database.
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

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/projector/internal/messaging"
	"github.com/orderflow/orderflow/services/projector/internal/pgstore"
	"github.com/orderflow/orderflow/services/projector/internal/projection"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
)

// Run projects events with the durable consumer cfg.Durable until ctx ends,
// then returns nil. It connects to NATS itself (cfg.NATS.URL), ensures the
// contract's streams exist, and writes through pool, which the caller owns.
func Run(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger, options ...Option) error {
	var ro runOptions
	for _, o := range options {
		o(&ro)
	}
	nc, js, err := connect(cfg, "projector-admin", log)
	if err != nil {
		return err
	}
	defer drain(nc, log)
	m := newMetrics(nil)
	if ro.ops != nil {
		m = newMetrics(ro.ops.Registry())
		ro.ops.Registry().MustRegister(ops.NewConsumerLag(js, contracts.StreamEvents, cfg.Durable), newOpenOrders(pool))
		ro.ops.AddCheck("nats", ops.NATSCheck(nc))
		ro.ops.AddCheck("postgres", ops.PostgresCheck(pool))
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
	if err := consume(ctx, cfg, pool, log, js, cfg.Durable, m); err != nil {
		return err
	}
	log.Info("projector stopped")
	return nil
}

// Option adjusts Run.
type Option func(*runOptions)

type runOptions struct{ ops *ops.Server }

// WithOps registers the projector's metrics, its consumer's lag and its
// readiness checks (NATS, PostgreSQL, the consumer) with srv.
func WithOps(srv *ops.Server) Option { return func(o *runOptions) { o.ops = srv } }

// Rebuild replays ORDER_EVENTS from its first message into an empty
// projection (migrations applied, no rows) and returns once every event
// that was in the stream when it started has been projected or
// dead-lettered. It uses a temporary consumer, so the live projector's
// position is untouched; run it while the live projector is stopped, then
// start the projector on the rebuilt database.
func Rebuild(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger) error {
	empty, err := pgstore.New(pool).IsEmpty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return errors.New("rebuild needs an empty database: orders or events already has rows")
	}
	nc, js, err := connect(cfg, "projector-rebuild", log)
	if err != nil {
		return err
	}
	defer drain(nc, log)
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
	go func() { done <- consume(runCtx, cfg, pool, log, js, name, newMetrics(nil)) }()

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

// consume runs the Watermill router on the existing consumer name until
// ctx ends. Middleware order matters: the poison queue sits outside the
// retries, so only an error that survived them (or is permanent, which is
// not retried) reaches it, and it takes only permanent ones; anything else
// is nacked and redelivered with backoff.
func consume(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger, adminJS jetstream.JetStream, name string, m *metrics) error {
	wlog := watermill.NewSlogLoggerWithLevelMapping(log.With("component", "watermill"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}) // watermill-nats logs every message at info

	subNC, err := natsx.Connect(cfg.NATS, "projector-consumer", log)
	if err != nil {
		return err
	}
	// The subscriber owns subNC from here: closing the router drains it.
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:           subNC,
		Logger:         wlog,
		AckWaitTimeout: cfg.AckWait,
		ResourceInitializer: func(ctx context.Context, js jetstream.JetStream, _ string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
			c, err := js.Consumer(ctx, contracts.StreamEvents, name)
			return c, nil, err
		},
		NakDelay:       messaging.Backoff{Base: 100 * time.Millisecond, Max: cfg.RedeliveryMaxDelay},
		ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(max(cfg.MaxAckPending/cfg.Concurrency, 1))},
		Unmarshaler:    messaging.Unmarshaler{},
	})
	if err != nil {
		subNC.Close()
		return fmt.Errorf("watermill subscriber: %w", err)
	}

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.Shutdown.Timeout}, wlog)
	if err != nil {
		_ = sub.Close()
		return fmt.Errorf("watermill router: %w", err)
	}
	poison, err := middleware.PoisonQueueWithFilter(
		messaging.DeadLetterPublisher{JS: adminJS, Timeout: 5 * time.Second, Log: log, Counter: m.deadLettered},
		contracts.DLQEvents, projection.IsPermanent)
	if err != nil {
		_ = sub.Close()
		return fmt.Errorf("poison queue: %w", err)
	}
	router.AddMiddleware(
		poison,
		messaging.GiveUpAfter(cfg.MaxDeliveries),
		middleware.Retry{
			MaxRetries:      cfg.Retries,
			InitialInterval: 100 * time.Millisecond,
			MaxInterval:     2 * time.Second,
			Multiplier:      2,
			ShouldRetry:     func(p middleware.RetryParams) bool { return !projection.IsPermanent(p.Err) },
		}.Middleware,
	)

	store := timedWriter{w: pgstore.New(pool), m: m}
	var proj projection.Projector = projection.Single{W: store}
	bctx, stopBatcher := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBatcher()
	if n := batchSize(cfg); n > 1 {
		b := projection.NewBatcher(store, n, cfg.FlushInterval, log)
		go b.Run(bctx)
		proj = b
	}
	h := messaging.Handler{P: observedProjector{p: proj, m: m}, Log: log}
	router.AddConsumerHandler("project-order-events", contracts.EventsWildcard,
		messaging.FanIn{Subscriber: sub, N: cfg.Concurrency}, h.Handle)

	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		if err := router.Close(); err != nil {
			log.Warn("close router", logging.Err(err))
		}
	}()
	if err := router.Run(ctx); err != nil {
		return fmt.Errorf("watermill router: %w", err)
	}
	if ctx.Err() == nil {
		return errors.New("watermill router stopped while the projector was running")
	}
	return nil
}

// batchSize is the effective batch: more than Concurrency can never be in
// flight, so a larger batch would only ever flush on the timer.
func batchSize(cfg Config) int { return min(cfg.BatchSize, cfg.Concurrency) }

func connect(cfg Config, name string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := natsx.Connect(cfg.NATS, name, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

func drain(nc *nats.Conn, log *slog.Logger) {
	if err := nc.Drain(); err != nil {
		log.Warn("drain nats", logging.Err(err))
	}
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
