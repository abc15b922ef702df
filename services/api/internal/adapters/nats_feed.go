package adapters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/shared/contracts"
)

// feedBuffer is how many events a slow board may fall behind before its
// stream is ended (the page then reloads its state and reconnects).
const feedBuffer = 256

// Feed fans new order events out to the board's live streams from one
// ephemeral ordered consumer on ORDER_EVENTS, which runs only while
// someone watches: the first subscriber starts it, the last one stops it.
type Feed struct {
	js  jetstream.JetStream
	log *slog.Logger

	mu   sync.Mutex
	subs map[chan contracts.Event]struct{}
	cons jetstream.Consumer
	cc   jetstream.ConsumeContext
}

// NewFeed prepares a feed on js; nothing runs until Subscribe.
func NewFeed(js jetstream.JetStream, log *slog.Logger) *Feed {
	return &Feed{js: js, log: log, subs: map[chan contracts.Event]struct{}{}}
}

// Subscribe returns a channel of the events published from now on, in
// stream order, and a function that ends the subscription. The channel is
// closed when the subscriber falls feedBuffer events behind.
func (f *Feed) Subscribe(ctx context.Context) (<-chan contracts.Event, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cc == nil {
		cons, err := f.js.OrderedConsumer(ctx, contracts.StreamEvents, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{contracts.EventsWildcard},
			DeliverPolicy:  jetstream.DeliverNewPolicy,
			// The server removes it by itself if this process dies.
			InactiveThreshold: 30 * time.Second,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("follow %s: %w", contracts.StreamEvents, err)
		}
		cc, err := cons.Consume(f.deliver, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if !errors.Is(err, jetstream.ErrConsumerDeleted) {
				f.log.Warn("board event feed", "error", err)
			}
		}))
		if err != nil {
			return nil, nil, fmt.Errorf("follow %s: %w", contracts.StreamEvents, err)
		}
		f.cons, f.cc = cons, cc
	}
	ch := make(chan contracts.Event, feedBuffer)
	f.subs[ch] = struct{}{}
	return ch, func() { f.unsubscribe(ch) }, nil
}

func (f *Feed) unsubscribe(ch chan contracts.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[ch]; ok {
		delete(f.subs, ch)
		close(ch)
	}
	if len(f.subs) == 0 && f.cc != nil {
		f.cc.Stop()
		// Stopping leaves the server-side consumer until its inactivity
		// threshold; nobody watches any more, so remove it now.
		name := f.cons.CachedInfo().Name
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := f.js.DeleteConsumer(ctx, contracts.StreamEvents, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			f.log.Warn("board event feed: delete consumer", "consumer", name, "error", err)
		}
		cancel()
		f.cc, f.cons = nil, nil
	}
}

func (f *Feed) deliver(m jetstream.Msg) {
	e, err := contracts.DecodeEvent(m.Data())
	if err != nil {
		f.log.Warn("board event feed: undecodable event", "subject", m.Subject(), "error", err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- e:
		default: // too slow: end its stream rather than stall everyone
			delete(f.subs, ch)
			close(ch)
		}
	}
}
