package ports

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderflow/orderflow/shared/natsx"
)

// Metadata keys set by Unmarshaler: what the handler and the dead-letter
// publisher need to know about the JetStream delivery.
const (
	MetaSubject      = "nats_subject"
	MetaMsgID        = "nats_msg_id"
	MetaStreamSeq    = "nats_stream_seq"
	MetaNumDelivered = "nats_num_delivered"
)

// Unmarshaler converts a JetStream message into a Watermill message. It
// never fails: watermill-nats dereferences the message even when the
// unmarshaler returns an error, so a message with odd headers (repeated
// values) must still come through and be judged by the handler.
type Unmarshaler struct{}

var _ wmjs.Unmarshaler = Unmarshaler{}

// Unmarshal implements wmjs.Unmarshaler.
func (Unmarshaler) Unmarshal(msg jetstream.Msg) (*message.Message, error) {
	md := make(message.Metadata, len(msg.Headers())+4)
	for k, v := range msg.Headers() {
		if len(v) > 0 {
			md.Set(k, v[0])
		}
	}
	md.Set(MetaSubject, msg.Subject())
	id := msg.Headers().Get(nats.MsgIdHdr)
	md.Set(MetaMsgID, id)
	if meta, err := msg.Metadata(); err == nil {
		md.Set(MetaStreamSeq, strconv.FormatUint(meta.Sequence.Stream, 10))
		md.Set(MetaNumDelivered, strconv.FormatUint(meta.NumDelivered, 10))
		if id == "" {
			id = "stream-seq-" + strconv.FormatUint(meta.Sequence.Stream, 10)
		}
	}
	m := message.NewMessage(id, msg.Data())
	m.Metadata = md
	return m, nil
}

// Deliveries is how many times JetStream has delivered msg (1 on the first).
func Deliveries(msg *message.Message) int {
	n, _ := strconv.Atoi(msg.Metadata.Get(MetaNumDelivered))
	return n
}

// FanIn subscribes to the same durable consumer n times. watermill-nats
// hands a message to the router and waits for its ack before taking the
// next one, so one subscription means one message in flight; n
// subscriptions let n messages (a batch) be processed at once.
type FanIn struct {
	message.Subscriber
	N int
}

// Subscribe merges n subscriptions of topic into one channel, closed when
// all of them are closed.
func (f FanIn) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	out := make(chan *message.Message)
	var wg sync.WaitGroup
	for i := range max(f.N, 1) {
		in, err := f.Subscriber.Subscribe(ctx, topic)
		if err != nil {
			return nil, fmt.Errorf("subscription %d of %s: %w", i, topic, err)
		}
		wg.Go(func() {
			for m := range in {
				out <- m
			}
		})
	}
	go func() { wg.Wait(); close(out) }()
	return out, nil
}

// DeadLetterPublisher is the poison-queue middleware's publisher: it writes
// each message to the dead-letter subject in the contract's format (the
// reason and original subject as headers, the body untouched).
type DeadLetterPublisher struct {
	JS      jetstream.JetStream
	Timeout time.Duration
	Log     *slog.Logger
	Counter prometheus.Counter // counts dead letters; may be nil
}

var _ message.Publisher = DeadLetterPublisher{}

// Publish implements message.Publisher.
func (p DeadLetterPublisher) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(m.Context()), p.Timeout)
		reason := m.Metadata.Get(middleware.ReasonForPoisonedKey)
		err := natsx.DeadLetter(ctx, p.JS, topic, m.Metadata.Get(MetaSubject), m.Payload, m.UUID, reason)
		cancel()
		if err != nil {
			return err
		}
		if p.Counter != nil {
			p.Counter.Inc()
		}
		p.Log.Warn("event dead-lettered", "subject", m.Metadata.Get(MetaSubject), "msg_id", m.UUID,
			"stream_seq", m.Metadata.Get(MetaStreamSeq), "reason", reason)
	}
	return nil
}

// Close implements message.Publisher; the connection belongs to the caller.
func (DeadLetterPublisher) Close() error { return nil }

// Backoff is the delay before JetStream redelivers a nacked message: it
// doubles from Base with each delivery up to Max, so a long PostgreSQL
// outage costs a probe every Max instead of a hot loop.
type Backoff struct {
	Base, Max time.Duration
}

var _ wmjs.Delay = Backoff{}

// WaitTime implements wmjs.Delay; it never returns TermSignal, because a
// transient failure must not drop the event.
func (b Backoff) WaitTime(delivered uint64) time.Duration {
	d := b.Base
	for i := uint64(1); i < delivered && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}
