package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/services/projector/internal/adapters"
	"github.com/orderflow/orderflow/services/projector/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/permanent"
	"github.com/orderflow/orderflow/shared/testenv"
)

// recorder wraps the real PostgreSQL store and records the size of every
// write, so the test can see how the batcher grouped events.
type recorder struct {
	w     app.Writer
	mu    sync.Mutex
	sizes []int
}

func (r *recorder) Write(ctx context.Context, events []app.Event) error {
	r.mu.Lock()
	r.sizes = append(r.sizes, len(events))
	r.mu.Unlock()
	return r.w.Write(ctx, events)
}

func event(orderID string, seq int64, failure string) app.Event {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second)
	snap := contracts.OrderStatus{
		OrderID: orderID, WorkflowID: contracts.OrderWorkflowID(orderID), State: domain.StateReceived,
		Step: domain.StepReceive, Items: domain.DefaultItems(), Address: domain.DefaultAddress(),
		Payment:       contracts.PaymentInfo{PaymentID: "pay-" + orderID, AmountCents: 1999, Status: "pending"},
		FailureReason: failure, AcceptedAt: at, UpdatedAt: at,
	}
	raw, _ := json.Marshal(snap)
	return app.Event{Event: contracts.Event{
		ID: contracts.EventID(orderID, seq), SchemaVersion: contracts.EventSchemaVersion, Type: contracts.EventReceived,
		OrderID: orderID, Seq: seq, Time: at, WorkflowID: snap.WorkflowID, Order: snap,
	}, Snapshot: raw}
}

func newStore(t *testing.T) (*recorder, *pgxpool.Pool) {
	pool := testenv.Pool(t, testenv.Postgres(t))
	return &recorder{w: adapters.NewStore(pool)}, pool
}

func runBatcher(t *testing.T, w app.Writer, size int, wait time.Duration) *app.Batcher {
	b := app.NewBatcher(w, size, wait, testenv.Logger(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

func projectAll(b *app.Batcher, events []app.Event) []error {
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	for i, ev := range events {
		wg.Go(func() { errs[i] = b.Project(context.Background(), ev) })
	}
	wg.Wait()
	return errs
}

func TestBatcherGroupsConcurrentEventsIntoFewTransactions(t *testing.T) {
	rec, pool := newStore(t)
	b := runBatcher(t, rec, 8, time.Second)
	var events []app.Event
	for i := range 24 {
		events = append(events, event(fmt.Sprintf("grp-%02d", i), 1, ""))
	}
	for i, err := range projectAll(b, events) {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	total := 0
	for _, n := range rec.sizes {
		if n > 8 {
			t.Errorf("batch of %d events, limit 8", n)
		}
		total += n
	}
	// 24 concurrent events and a one-second window: full batches only.
	if len(rec.sizes) != 3 || total != 24 {
		t.Errorf("write sizes = %v, want three batches of 8", rec.sizes)
	}
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&rows); err != nil || rows != 24 {
		t.Errorf("events rows = %d (err %v), want 24", rows, err)
	}
}

func TestBatcherIsolatesAnEventTheDatabaseRefuses(t *testing.T) {
	rec, pool := newStore(t)
	b := runBatcher(t, rec, 6, time.Second)
	events := []app.Event{
		event("iso-a", 1, ""), event("iso-b", 1, ""), event("iso-c", 1, "nul\x00byte"),
		event("iso-d", 1, ""), event("iso-e", 1, ""), event("iso-f", 1, ""),
	}
	errs := projectAll(b, events)
	for i, err := range errs {
		if i == 2 {
			if !permanent.Is(err) {
				t.Errorf("refused event: err = %v, want permanent", err)
			}
		} else if err != nil {
			t.Errorf("event %s: %v, want projected despite its bad neighbour", events[i].ID, err)
		}
	}
	want := []int{6, 1, 1, 1, 1, 1, 1}
	if fmt.Sprint(rec.sizes) != fmt.Sprint(want) {
		t.Errorf("write sizes = %v, want %v (the batch, then each event alone)", rec.sizes, want)
	}
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&rows); err != nil || rows != 5 {
		t.Errorf("orders rows = %d (err %v), want 5", rows, err)
	}
}

func TestBatcherReturnsContextErrorWhenStopped(t *testing.T) {
	rec, _ := newStore(t)
	b := app.NewBatcher(rec, 4, time.Hour, testenv.Logger(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	errc := make(chan error, 1)
	go func() { errc <- b.Project(context.Background(), event("stop-a", 1, "")) }()
	// Whether the event already joined the hour-long batch window or still
	// waits in the queue, stopping must fail it rather than leave it hanging.
	cancel()
	<-done
	if err := <-errc; err == nil {
		t.Fatal("event in an unflushed batch reported success after stop")
	}
	if err := b.Project(context.Background(), event("stop-b", 1, "")); err != app.ErrStopped {
		t.Fatalf("Project after stop: %v, want ErrStopped", err)
	}
	if len(rec.sizes) != 0 {
		t.Fatalf("writes after stop: %v", rec.sizes)
	}
}
