// Package adapters implements app.Writer on PostgreSQL (postgres.go): the
// orders table (current state, moved only forward by seq) and the
// append-only events table. The projector's NATS side is not here: it only
// consumes, which makes it the entry point in internal/ports.
package adapters

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/services/projector/internal/app"
	"github.com/orderflow/orderflow/shared/permanent"
)

// Store implements app.Writer on a pgx pool.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns a Store on pool; the caller owns the pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var _ app.Writer = (*Store)(nil)

// upsertOrders writes one row per order from the newest snapshot in the
// batch. The WHERE clause is the ordering guarantee: a snapshot older than
// the stored one (a replay, a reordered delivery) changes nothing.
const upsertOrders = `
INSERT INTO orders (order_id, workflow_id, payment_id, state, step, terminal, amount_cents,
    items, address, manual_review, payment_status, tracking_number, failure_reason,
    snapshot, last_seq, last_event_type, accepted_at, updated_at, completed_at, owner)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::int8[],
    $8::jsonb[], $9::jsonb[], $10::bool[], $11::text[], $12::text[], $13::text[],
    $14::jsonb[], $15::int8[], $16::text[], $17::timestamptz[], $18::timestamptz[], $19::timestamptz[],
    $20::text[])
ON CONFLICT (order_id) DO UPDATE SET
    workflow_id = EXCLUDED.workflow_id,
    payment_id = EXCLUDED.payment_id,
    state = EXCLUDED.state,
    step = EXCLUDED.step,
    terminal = EXCLUDED.terminal,
    amount_cents = EXCLUDED.amount_cents,
    items = EXCLUDED.items,
    address = EXCLUDED.address,
    manual_review = EXCLUDED.manual_review,
    payment_status = EXCLUDED.payment_status,
    tracking_number = EXCLUDED.tracking_number,
    failure_reason = EXCLUDED.failure_reason,
    snapshot = EXCLUDED.snapshot,
    last_seq = EXCLUDED.last_seq,
    last_event_type = EXCLUDED.last_event_type,
    accepted_at = EXCLUDED.accepted_at,
    updated_at = EXCLUDED.updated_at,
    completed_at = EXCLUDED.completed_at,
    owner = EXCLUDED.owner
WHERE orders.last_seq < EXCLUDED.last_seq`

// insertEvents appends events; a replayed event is skipped. No conflict
// target: event_id and (order_id, seq) identify the same row, and naming
// both as arbiters keeps two concurrent inserts of one event from failing.
const insertEvents = `
INSERT INTO events (event_id, order_id, seq, type, occurred_at, data, snapshot)
SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::jsonb[])
ON CONFLICT DO NOTHING`

// Write projects events in one implicit transaction (a pgx batch runs its
// statements atomically and in one round trip). The orders row is written
// first because events has a foreign key to it.
func (s *Store) Write(ctx context.Context, events []app.Event) error {
	if len(events) == 0 {
		return nil
	}
	o, err := orderColumns(events)
	if err != nil {
		return permanent.Wrap(err)
	}
	e := eventColumns(events)
	b := &pgx.Batch{}
	b.Queue(upsertOrders, o.orderID, o.workflowID, o.paymentID, o.state, o.step, o.terminal, o.amount,
		o.items, o.address, o.manualReview, o.paymentStatus, o.tracking, o.failure,
		o.snapshot, o.seq, o.eventType, o.acceptedAt, o.updatedAt, o.completedAt, o.owner)
	b.Queue(insertEvents, e.eventID, e.orderID, e.seq, e.eventType, e.occurredAt, e.data, e.snapshot)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return classify(fmt.Errorf("project %d events: %w", len(events), err))
	}
	return nil
}

// IsEmpty reports whether nothing has been projected yet, which a rebuild
// requires so that its result is exactly what the stream says.
func (s *Store) IsEmpty(ctx context.Context) (bool, error) {
	var nonEmpty bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders) OR EXISTS (SELECT 1 FROM events)`).Scan(&nonEmpty)
	if err != nil {
		return false, fmt.Errorf("check projection is empty: %w", err)
	}
	return !nonEmpty, nil
}

// classify marks errors that the same data will hit again on every retry:
// data exceptions (class 22, e.g. a NUL byte or bad JSON escape), integrity
// violations other than unique_violation (class 23; a unique race resolves
// itself on retry) and program limits (class 54, e.g. an oversized row).
// Everything else (connection loss, shutdown, deadlock, missing schema) is
// transient: retry and never lose the event.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case pgErr.Code == "23505":
		return err
	case len(pgErr.Code) == 5 && (pgErr.Code[:2] == "22" || pgErr.Code[:2] == "23" || pgErr.Code[:2] == "54"):
		return permanent.Wrap(err)
	}
	return err
}

type orderCols struct {
	orderID, workflowID, paymentID, state, step []string
	terminal, manualReview                      []bool
	amount, seq                                 []int64
	items, address, snapshot                    []string
	paymentStatus, tracking, failure, eventType []string
	owner                                       []string
	acceptedAt, updatedAt                       []time.Time
	completedAt                                 []pgtype.Timestamptz
}

// orderColumns keeps the newest event of each order (one statement may not
// update a row twice) in order_id order, so concurrent transactions lock
// rows in the same order and cannot deadlock.
func orderColumns(events []app.Event) (orderCols, error) {
	newest := make(map[string]app.Event, len(events))
	for _, ev := range events {
		if cur, ok := newest[ev.OrderID]; !ok || ev.Seq > cur.Seq {
			newest[ev.OrderID] = ev
		}
	}
	latest := make([]app.Event, 0, len(newest))
	for _, ev := range newest {
		latest = append(latest, ev)
	}
	slices.SortFunc(latest, func(a, b app.Event) int { return cmp.Compare(a.OrderID, b.OrderID) })

	var c orderCols
	for _, ev := range latest {
		snap := ev.Order
		items, err := json.Marshal(snap.Items)
		if err != nil {
			return c, fmt.Errorf("encode items of %s: %w", ev.ID, err)
		}
		if snap.Items == nil {
			items = []byte("[]")
		}
		address, err := json.Marshal(snap.Address)
		if err != nil {
			return c, fmt.Errorf("encode address of %s: %w", ev.ID, err)
		}
		workflowID := cmp.Or(snap.WorkflowID, ev.WorkflowID)
		tracking := ""
		if snap.Shipping != nil {
			tracking = snap.Shipping.TrackingNumber
		}
		completed := pgtype.Timestamptz{}
		if snap.CompletedAt != nil {
			completed = pgtype.Timestamptz{Time: *snap.CompletedAt, Valid: true}
		}
		c.orderID = append(c.orderID, ev.OrderID)
		c.workflowID = append(c.workflowID, workflowID)
		c.paymentID = append(c.paymentID, snap.Payment.PaymentID)
		c.state = append(c.state, string(snap.State))
		c.step = append(c.step, string(snap.Step))
		c.terminal = append(c.terminal, snap.State.Terminal())
		c.amount = append(c.amount, snap.Payment.AmountCents)
		c.items = append(c.items, string(items))
		c.address = append(c.address, string(address))
		c.manualReview = append(c.manualReview, snap.ManualReview)
		c.paymentStatus = append(c.paymentStatus, snap.Payment.Status)
		c.tracking = append(c.tracking, tracking)
		c.failure = append(c.failure, snap.FailureReason)
		c.snapshot = append(c.snapshot, string(ev.Snapshot))
		c.seq = append(c.seq, ev.Seq)
		c.eventType = append(c.eventType, string(ev.Type))
		c.acceptedAt = append(c.acceptedAt, snap.AcceptedAt)
		c.updatedAt = append(c.updatedAt, ev.Time)
		c.completedAt = append(c.completedAt, completed)
		c.owner = append(c.owner, snap.Owner)
	}
	return c, nil
}

type eventCols struct {
	eventID, orderID, eventType, data, snapshot []string
	seq                                         []int64
	occurredAt                                  []time.Time
}

// eventColumns lists events in event_id order (same reason as orders).
func eventColumns(events []app.Event) eventCols {
	sorted := slices.Clone(events)
	slices.SortFunc(sorted, func(a, b app.Event) int { return cmp.Compare(a.ID, b.ID) })
	var c eventCols
	for _, ev := range sorted {
		data := string(ev.Data)
		if len(ev.Data) == 0 || data == "null" {
			data = "{}"
		}
		c.eventID = append(c.eventID, ev.ID)
		c.orderID = append(c.orderID, ev.OrderID)
		c.seq = append(c.seq, ev.Seq)
		c.eventType = append(c.eventType, string(ev.Type))
		c.occurredAt = append(c.occurredAt, ev.Time)
		c.data = append(c.data, data)
		c.snapshot = append(c.snapshot, string(ev.Snapshot))
	}
	return c
}
