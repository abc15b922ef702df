package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
)

// Bus implements app.CommandBus and app.LiveStatus on one connection.
type Bus struct {
	nc            *nats.Conn
	js            jetstream.JetStream
	statusTimeout time.Duration
	log           *slog.Logger
	published     *prometheus.CounterVec
	tracer        trace.Tracer
}

// NewBus wraps nc; statusTimeout bounds a live status request, kept short
// because the projection is a good enough answer when the bridge is slow.
// The commands-published counter goes to reg (nil: unregistered).
func NewBus(nc *nats.Conn, statusTimeout time.Duration, log *slog.Logger, reg prometheus.Registerer) (*Bus, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	published := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ops.Namespace, Subsystem: "api", Name: "commands_published_total",
		Help: "Commands offered to ORDER_COMMANDS by kind and result (stored, duplicate, error).",
	}, []string{"kind", "result"})
	if reg != nil {
		if err := reg.Register(published); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return &Bus{nc: nc, js: js, statusTimeout: statusTimeout, log: log, published: published,
		tracer: otel.Tracer("github.com/orderflow/orderflow/services/api")}, nil
}

// JetStream is the bus's JetStream context, for the board's event feed.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Publish stores cmd in ORDER_COMMANDS and waits for the PubAck, so an
// accepted command survives an API crash right after the response.
func (b *Bus) Publish(ctx context.Context, cmd contracts.Command) (bool, error) {
	msg, err := natsx.CommandMsg(cmd)
	if err != nil {
		return false, err
	}
	// A producer span whose context travels in the command's headers: the
	// bridge's span for this command becomes its child.
	ctx, span := b.tracer.Start(ctx, "publish "+string(cmd.Kind), trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.String("messaging.destination.name", msg.Subject),
			attribute.String("order.id", cmd.OrderID), attribute.String("command.id", cmd.CommandID)))
	defer span.End()
	natsx.InjectTrace(ctx, msg)
	ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(contracts.StreamCommands))
	if err != nil {
		b.published.WithLabelValues(string(cmd.Kind), "error").Inc()
		span.SetStatus(codes.Error, err.Error())
		return false, fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	result := "stored"
	if ack.Duplicate {
		result = "duplicate"
	}
	b.published.WithLabelValues(string(cmd.Kind), result).Inc()
	return ack.Duplicate, nil
}

// WatchResults subscribes to the order's result subject. The subscription
// is registered on the same connection before the command is published, and
// the server handles one connection's protocol in order, so the bridge
// cannot publish an outcome this subscription misses.
func (b *Bus) WatchResults(_ context.Context, orderID string) (app.ResultWatch, error) {
	sub, err := b.nc.SubscribeSync(contracts.ResultSubject(orderID))
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", contracts.ResultSubject(orderID), err)
	}
	return &watch{bus: b, sub: sub, orderID: orderID}, nil
}

type watch struct {
	bus     *Bus
	sub     *nats.Subscription
	orderID string
}

func (w *watch) Close() {
	if err := w.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		w.bus.log.Warn("unsubscribe results", "error", err)
	}
}

func (w *watch) Await(ctx context.Context, commandID string, history bool) (contracts.CommandResult, error) {
	if history {
		res, found, err := w.bus.findResult(ctx, w.orderID, commandID)
		if err != nil {
			return contracts.CommandResult{}, err
		}
		if found {
			return res, nil
		}
	}
	for {
		m, err := w.sub.NextMsgWithContext(ctx)
		if err != nil {
			return contracts.CommandResult{}, fmt.Errorf("next result: %w", err)
		}
		var r contracts.CommandResult
		if err := json.Unmarshal(m.Data, &r); err != nil {
			w.bus.log.Warn("undecodable command result", "subject", m.Subject, "error", err)
			continue
		}
		if r.CommandID == commandID {
			return r, nil
		}
	}
}

// findResult scans the order's stored outcomes in ORDER_RESULTS for
// commandID. An order has few commands, so a short-lived filtered consumer
// reading them all is cheap; it is deleted afterwards (and expires on its
// own if this process dies first).
func (b *Bus) findResult(ctx context.Context, orderID, commandID string) (contracts.CommandResult, bool, error) {
	cons, err := b.js.CreateConsumer(ctx, contracts.StreamResults, jetstream.ConsumerConfig{
		FilterSubject:     contracts.ResultSubject(orderID),
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 30 * time.Second,
		MemoryStorage:     true,
	})
	if err != nil {
		return contracts.CommandResult{}, false, fmt.Errorf("read %s: %w", contracts.StreamResults, err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := b.js.DeleteConsumer(dctx, contracts.StreamResults, name); err != nil {
			b.log.Debug("delete results consumer", "consumer", name, "error", err)
		}
	}()
	for pending := cons.CachedInfo().NumPending; pending > 0; {
		batch, err := cons.Fetch(int(min(pending, 256)), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return contracts.CommandResult{}, false, fmt.Errorf("fetch %s: %w", contracts.StreamResults, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			var r contracts.CommandResult
			if json.Unmarshal(m.Data(), &r) == nil && r.CommandID == commandID {
				return r, true, nil
			}
			if md, err := m.Metadata(); err == nil {
				pending = md.NumPending
			}
		}
		if err := batch.Error(); err != nil {
			return contracts.CommandResult{}, false, fmt.Errorf("fetch %s: %w", contracts.StreamResults, err)
		}
		if got == 0 {
			break
		}
	}
	return contracts.CommandResult{}, false, nil
}

// Status asks the bridge for the live status. No responders or a timeout
// are returned as errors; the caller falls back to the projection.
func (b *Bus) Status(ctx context.Context, orderID string) (contracts.StatusReply, error) {
	ctx, cancel := context.WithTimeout(ctx, b.statusTimeout)
	defer cancel()
	m, err := b.nc.RequestWithContext(ctx, contracts.StatusSubject(orderID), nil)
	switch {
	case natsx.IsNoResponders(err):
		return contracts.StatusReply{}, errors.New("no live status responder (bridge not running)")
	case errors.Is(err, context.DeadlineExceeded):
		return contracts.StatusReply{}, fmt.Errorf("live status timed out after %s", b.statusTimeout)
	case err != nil:
		return contracts.StatusReply{}, fmt.Errorf("request %s: %w", contracts.StatusSubject(orderID), err)
	}
	var r contracts.StatusReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return contracts.StatusReply{}, fmt.Errorf("decode status reply: %w", err)
	}
	return r, nil
}

// Ready reports whether NATS is connected and the command stream exists,
// which is what a POST needs to succeed.
func (b *Bus) Ready(ctx context.Context) error {
	if s := b.nc.Status(); s != nats.CONNECTED {
		return fmt.Errorf("nats connection is %s", s)
	}
	if _, err := b.js.Stream(ctx, contracts.StreamCommands); err != nil {
		return fmt.Errorf("stream %s: %w", contracts.StreamCommands, err)
	}
	return nil
}
