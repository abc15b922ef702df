// Package ports holds the projector's one entry point: the consumer of
// ORDER_EVENTS (events.go), a Watermill router on a durable JetStream
// consumer that decodes each event, hands it to app.Projector and
// dead-letters what can never be projected, and the Watermill plumbing it
// runs on (watermill.go: JetStream messages into Watermill messages,
// several in flight, the dead-letter publisher, the redelivery delay). The
// PostgreSQL writer behind app.Projector is an adapter (internal/adapters).
package ports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/services/projector/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/permanent"
)

var tracer = otel.Tracer("github.com/orderflow/orderflow/services/projector")

// ConsumerOptions tune the event consumer; see projector.Config for their
// meaning.
type ConsumerOptions struct {
	Durable            string // the JetStream consumer to read; it must exist
	AckWait            time.Duration
	Concurrency        int
	MaxAckPending      int
	Retries            int
	MaxDeliveries      int
	RedeliveryMaxDelay time.Duration
	CloseTimeout       time.Duration      // for in-flight messages when the router stops
	DeadLettered       prometheus.Counter // counts dead letters; may be nil
}

// Consume runs the Watermill router on the durable consumer opts.Durable
// until ctx ends, handing every event to p. sub is the subscriber's own
// connection: watermill-nats drains it when the router stops, which is
// what stops intake. Dead letters go out through js, on a connection that
// outlives the router. Middleware order matters: the poison queue sits
// outside the retries, so only an error that survived them (or is
// permanent, which is not retried) reaches it, and it takes only permanent
// ones; anything else is nacked and redelivered with backoff. Recoverer,
// innermost, turns a panicking handler into a transient error, so the
// message is retried and redelivered instead of the router going down.
func Consume(ctx context.Context, sub *nats.Conn, js jetstream.JetStream, p app.Projector, opts ConsumerOptions, log *slog.Logger) error {
	wlog := watermill.NewSlogLoggerWithLevelMapping(log.With("component", "watermill"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}) // watermill-nats logs every message at info

	subscriber, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:           sub,
		Logger:         wlog,
		AckWaitTimeout: opts.AckWait,
		ResourceInitializer: func(ctx context.Context, js jetstream.JetStream, _ string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
			c, err := js.Consumer(ctx, contracts.StreamEvents, opts.Durable)
			return c, nil, err
		},
		NakDelay:       Backoff{Base: 100 * time.Millisecond, Max: opts.RedeliveryMaxDelay},
		ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(max(opts.MaxAckPending/opts.Concurrency, 1))},
		Unmarshaler:    Unmarshaler{},
	})
	if err != nil {
		return fmt.Errorf("watermill subscriber: %w", err)
	}

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: opts.CloseTimeout}, wlog)
	if err != nil {
		_ = subscriber.Close()
		return fmt.Errorf("watermill router: %w", err)
	}
	poison, err := middleware.PoisonQueueWithFilter(
		DeadLetterPublisher{JS: js, Timeout: 5 * time.Second, Log: log, Counter: opts.DeadLettered},
		contracts.DLQEvents, permanent.Is)
	if err != nil {
		_ = subscriber.Close()
		return fmt.Errorf("poison queue: %w", err)
	}
	router.AddMiddleware(
		poison,
		GiveUpAfter(opts.MaxDeliveries),
		middleware.Retry{
			MaxRetries:      opts.Retries,
			InitialInterval: 100 * time.Millisecond,
			MaxInterval:     2 * time.Second,
			Multiplier:      2,
			ShouldRetry:     func(p middleware.RetryParams) bool { return !permanent.Is(p.Err) },
		}.Middleware,
		middleware.Recoverer,
	)
	h := Handler{P: p, Log: log}
	router.AddConsumerHandler("project-order-events", contracts.EventsWildcard,
		FanIn{Subscriber: subscriber, N: opts.Concurrency}, h.Handle)

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

// GiveUpAfter turns a transient failure into a permanent one once a message
// has been delivered maxDeliveries times (0 disables it), for operators who
// prefer a dead letter to an endless retry of an unexpected error.
func GiveUpAfter(maxDeliveries int) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err != nil && maxDeliveries > 0 && !permanent.Is(err) && Deliveries(msg) >= maxDeliveries {
				err = permanent.Wrap(fmt.Errorf("gave up after %d deliveries: %w", Deliveries(msg), err))
			}
			return out, err
		}
	}
}

// Handler decodes one event message and hands it to app.Projector.
// Decoding failures are permanent (the bytes never change).
type Handler struct {
	P   app.Projector
	Log *slog.Logger
}

// Handle implements message.NoPublishHandlerFunc.
func (h Handler) Handle(msg *message.Message) error {
	ev, err := Decode(msg.Metadata.Get(MetaSubject), msg.Payload)
	if err != nil {
		return permanent.Wrap(err)
	}
	log := h.Log.With(logging.KeyOrderID, ev.OrderID, logging.KeyWorkflowID, ev.WorkflowID,
		logging.KeyEventID, ev.ID, logging.KeyAttempt, Deliveries(msg))
	// The event's headers (now metadata) carry the trace of the activity
	// that published it; projecting it is a child span of that.
	ctx := otel.GetTextMapPropagator().Extract(msg.Context(), propagation.MapCarrier(msg.Metadata))
	ctx, span := tracer.Start(ctx, "project "+string(ev.Type), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("ports.system", "nats"), attribute.String("ports.destination.name", msg.Metadata.Get(MetaSubject)),
			attribute.String("order.id", ev.OrderID), attribute.String("event.id", ev.ID), attribute.Int("ports.delivery", Deliveries(msg))))
	defer span.End()
	if err := h.P.Project(ctx, ev); err != nil {
		span.SetStatus(codes.Error, err.Error())
		// Debug only: a failed batch is logged once by the batcher, a
		// nacked message by the router, a dead letter by its publisher.
		log.DebugContext(ctx, "event not projected", "seq", ev.Seq, "type", ev.Type, logging.Err(err))
		return fmt.Errorf("project %s: %w", ev.ID, err)
	}
	log.DebugContext(ctx, "event projected", "seq", ev.Seq, "type", ev.Type)
	return nil
}

// Decode validates an event body and checks that it was published where
// its order ID and type say, so per-order subscribers see every event of
// their order.
func Decode(subject string, body []byte) (app.Event, error) {
	ev, err := contracts.DecodeEvent(body)
	if err != nil {
		return app.Event{}, err
	}
	orderID, typ, err := contracts.ParseEventSubject(subject)
	if err != nil {
		return app.Event{}, err
	}
	if orderID != ev.OrderID || typ != ev.Type {
		return app.Event{}, fmt.Errorf("event %s (%s) arrived on subject %s", ev.ID, ev.Type, subject)
	}
	var raw struct {
		Order json.RawMessage `json:"order"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return app.Event{}, fmt.Errorf("event snapshot: %w", err)
	}
	return app.Event{Event: ev, Snapshot: raw.Order}, nil
}
