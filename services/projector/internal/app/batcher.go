package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/permanent"
)

// ErrStopped is returned to callers once the batcher has stopped.
var ErrStopped = errors.New("projection batcher stopped")

// Batcher groups events arriving concurrently from many in-flight messages
// into one transaction (group commit). A commit costs the same for one row
// or a hundred, so under load the projector writes many events per commit
// while each message is still acknowledged only after its own event is
// durably stored.
type Batcher struct {
	w    Writer
	max  int
	wait time.Duration
	log  *slog.Logger
	reqs chan request
	done chan struct{}
}

type request struct {
	ev  Event
	res chan error
}

// NewBatcher returns a batcher that writes at most maxEvents per transaction
// and waits at most wait after a batch's first event for more to arrive.
// Run must be running for Project to make progress.
func NewBatcher(w Writer, maxEvents int, wait time.Duration, log *slog.Logger) *Batcher {
	maxEvents = max(maxEvents, 1)
	return &Batcher{
		w:    w,
		max:  maxEvents,
		wait: wait,
		log:  log,
		reqs: make(chan request, maxEvents),
		done: make(chan struct{}),
	}
}

// Project hands ev to the current batch and waits for that batch's outcome.
// If ctx ends first the event may still be committed, which is harmless:
// the message is redelivered and the write is idempotent.
func (b *Batcher) Project(ctx context.Context, ev Event) error {
	r := request{ev: ev, res: make(chan error, 1)}
	select {
	case <-b.done:
		return ErrStopped
	default:
	}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return ErrStopped
	}
	select {
	case err := <-r.res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		// Run answers every request it took before closing done; one left
		// in the queue was never written.
		select {
		case err := <-r.res:
			return err
		default:
			return ErrStopped
		}
	}
}

// Run collects and writes batches until ctx ends.
func (b *Batcher) Run(ctx context.Context) {
	defer close(b.done)
	timer := time.NewTimer(b.wait)
	timer.Stop()
	for {
		var batch []request
		select {
		case <-ctx.Done():
			return
		case r := <-b.reqs:
			batch = append(batch, r)
		}
		timer.Reset(b.wait)
	fill:
		for len(batch) < b.max {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			case <-timer.C:
				break fill
			case <-ctx.Done():
				timer.Stop()
				for _, r := range batch {
					r.res <- ctx.Err()
				}
				return
			}
		}
		timer.Stop()
		b.flush(ctx, batch)
	}
}

// flush writes the batch in one transaction. When the database refuses the
// batch for good, one bad event must not take the others down with it, so
// each event is retried alone and only the culprit gets the permanent error.
func (b *Batcher) flush(ctx context.Context, batch []request) {
	events := make([]Event, len(batch))
	for i, r := range batch {
		events[i] = r.ev
	}
	start := time.Now()
	err := b.w.Write(ctx, events)
	b.log.Debug("batch written", "events", len(batch), "took", time.Since(start), logging.Err(err))
	if err != nil && permanent.Is(err) && len(batch) > 1 {
		b.log.Warn("batch refused, writing its events one by one", "events", len(batch), logging.Err(err))
		for _, r := range batch {
			r.res <- b.w.Write(ctx, []Event{r.ev})
		}
		return
	}
	if err != nil && ctx.Err() == nil {
		b.log.Warn("batch not written, its messages will be retried", "events", len(batch), logging.Err(err))
	}
	for _, r := range batch {
		r.res <- err
	}
}
