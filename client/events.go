package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// SubscribeOptions choose which events Events hands over and from where.
type SubscribeOptions struct {
	// OrderID limits events to one order; empty means every order.
	OrderID string
	// Type limits events to one type; empty means every type.
	Type EventType
	// Durable names a JetStream durable consumer: it remembers what was
	// handled, so a restarted subscriber resumes where it stopped. Empty
	// means an ephemeral ordered consumer that disappears with the call.
	Durable string
	// StartSeq starts at this ORDER_EVENTS stream sequence; StartTime at
	// the first event stored at or after it. Neither: from the beginning.
	// They apply when a durable consumer is created, not when it resumes.
	StartSeq  uint64
	StartTime time.Time
}

// Stop, returned by an event handler, ends Events without an error.
//
//lint:ignore ST1012 a control value like fs.SkipAll, not a failure
var Stop = errors.New("stop following events")

// EventSubjectFilter is the subject filter of opts: one order, one type, both or all.
func EventSubjectFilter(opts SubscribeOptions) string {
	order, typ := "*", ">"
	if opts.OrderID != "" {
		order = opts.OrderID
	}
	if opts.Type != "" {
		typ = string(opts.Type)
	}
	if order == "*" && typ == ">" {
		return EventsRoot + ".>"
	}
	return EventsRoot + "." + order + "." + typ
}

// Events hands the matching events to fn one at a time, in per-order order:
// the order worker publishes an order's events one after another in seq
// order and the consumer delivers in stream order (a durable consumer keeps
// one event in flight, so a redelivery cannot overtake), and an event whose
// seq is not above the last one handed over for its order (a duplicate or a
// stale redelivery) is skipped. A durable consumer acknowledges an event
// once fn returns nil.
//
// Events blocks until ctx ends (returning nil), fn returns Stop (nil) or
// another error (returned; with a durable consumer the event is redelivered
// next time), or the subscription fails.
func (c *Client) Events(ctx context.Context, opts SubscribeOptions, fn func(Event) error) error {
	if opts.OrderID != "" {
		if err := ValidateOrderID(opts.OrderID); err != nil {
			return fmt.Errorf("client: %w", err)
		}
	}
	if opts.StartSeq > 0 && !opts.StartTime.IsZero() {
		return errors.New("client: set StartSeq or StartTime, not both")
	}
	deliver, startTime := jetstream.DeliverAllPolicy, (*time.Time)(nil)
	switch {
	case opts.StartSeq > 0:
		deliver = jetstream.DeliverByStartSequencePolicy
	case !opts.StartTime.IsZero():
		deliver, startTime = jetstream.DeliverByStartTimePolicy, &opts.StartTime
	}
	filter := EventSubjectFilter(opts)

	var (
		cons jetstream.Consumer
		err  error
	)
	if opts.Durable == "" {
		cons, err = c.js.OrderedConsumer(ctx, StreamEvents, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{filter}, DeliverPolicy: deliver, OptStartSeq: opts.StartSeq, OptStartTime: startTime,
		})
	} else {
		cons, err = c.js.CreateOrUpdateConsumer(ctx, StreamEvents, jetstream.ConsumerConfig{
			Durable: opts.Durable, FilterSubject: filter, DeliverPolicy: deliver,
			OptStartSeq: opts.StartSeq, OptStartTime: startTime,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
			MaxAckPending: 1, // one in flight: a redelivery cannot overtake a later event
		})
	}
	if err != nil {
		return fmt.Errorf("client: consumer on %s: %w", filter, err)
	}
	next, stop, err := messages(ctx, cons, opts.Durable != "")
	if err != nil {
		return fmt.Errorf("client: consume %s: %w", filter, err)
	}
	defer stop()

	ack := func(m jetstream.Msg) error {
		if opts.Durable == "" {
			return nil
		}
		if err := m.Ack(); err != nil {
			return fmt.Errorf("client: ack %s: %w", m.Subject(), err)
		}
		return nil
	}
	last := map[string]int64{}
	for {
		m, err := next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("client: events: %w", err)
		}
		e, err := DecodeEvent(m.Data())
		if err != nil {
			return fmt.Errorf("client: event on %s: %w", m.Subject(), err)
		}
		if e.Seq <= last[e.OrderID] {
			if err := ack(m); err != nil {
				return err
			}
			continue
		}
		if err := fn(e); err != nil {
			if errors.Is(err, Stop) {
				return ack(m) // handled: Stop means done, not failed
			}
			if opts.Durable != "" {
				_ = m.Nak() // no pull is pending: the next subscriber gets it at once
			}
			return err
		}
		last[e.OrderID] = e.Seq
		if err := ack(m); err != nil {
			return err
		}
	}
}

// messages returns the consumer's messages one at a time. An ordered
// consumer streams them. A durable one pulls one message per call and only
// after the previous one was handled, so no pull is outstanding when a
// handler fails: the nak'd event goes straight to the next subscriber
// instead of to a pull nobody reads any more.
func messages(ctx context.Context, cons jetstream.Consumer, durable bool) (func() (jetstream.Msg, error), func(), error) {
	if !durable {
		it, err := cons.Messages()
		if err != nil {
			return nil, nil, err
		}
		stop := context.AfterFunc(ctx, it.Stop)
		return func() (jetstream.Msg, error) { return it.Next() }, func() { stop(); it.Stop() }, nil
	}
	next := func() (jetstream.Msg, error) {
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			// Short pulls, so the call notices ctx ending promptly.
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			m, err := cons.Next(jetstream.FetchContext(pctx))
			cancel()
			if err == nil {
				return m, nil
			}
			if ctx.Err() == nil && (errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)) {
				continue
			}
			return nil, err
		}
	}
	return next, func() {}, nil
}

// DecodeEvent decodes an event body and checks it is a schema this package
// understands.
func DecodeEvent(body []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return Event{}, fmt.Errorf("event is not valid JSON: %w", err)
	}
	switch {
	case e.SchemaVersion != EventSchemaVersion:
		return Event{}, fmt.Errorf("event schema_version %d is not supported (want %d): upgrade the client", e.SchemaVersion, EventSchemaVersion)
	case e.Seq < 1:
		return Event{}, fmt.Errorf("event seq %d is not positive", e.Seq)
	case ValidateOrderID(e.OrderID) != nil:
		return Event{}, ValidateOrderID(e.OrderID)
	}
	return e, nil
}
