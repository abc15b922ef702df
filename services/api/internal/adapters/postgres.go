package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// Store implements app.Store on a pgx pool.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore wraps pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Ready pings the database.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// ownerClause matches rows of owner; an empty owner (the API without keys)
// matches every row. Every read of one order or of the list goes through it.
const ownerClause = `($2 = '' OR owner = $2)`

// Owner returns the client that started the order.
func (s *Store) Owner(ctx context.Context, orderID string) (string, error) {
	var owner string
	err := s.pool.QueryRow(ctx, `SELECT owner FROM orders WHERE order_id = $1`, orderID).Scan(&owner)
	if err != nil {
		return "", notFound(err)
	}
	return owner, nil
}

// Projection returns the order's last projected snapshot.
func (s *Store) Projection(ctx context.Context, orderID, owner string) (app.Projection, error) {
	var (
		p    app.Projection
		snap []byte
	)
	err := s.pool.QueryRow(ctx,
		`SELECT snapshot, last_seq, updated_at FROM orders WHERE order_id = $1 AND `+ownerClause, orderID, owner,
	).Scan(&snap, &p.LastSeq, &p.UpdatedAt)
	if err != nil {
		return p, notFound(err)
	}
	if err := json.Unmarshal(snap, &p.Snapshot); err != nil {
		return p, fmt.Errorf("decode snapshot of %s: %w", orderID, err)
	}
	return p, nil
}

// Order returns the order's row, with the snapshot's detail that has no
// column of its own (shipping, attempts, errors, signals).
func (s *Store) Order(ctx context.Context, orderID, owner string) (app.OrderRecord, error) {
	var (
		r                     app.OrderRecord
		items, address, snap  []byte
		state, step, lastType string
	)
	err := s.pool.QueryRow(ctx, `
		SELECT order_id, workflow_id, payment_id, state, step, terminal, amount_cents, items, address,
		       manual_review, payment_status, failure_reason, snapshot, last_seq, last_event_type,
		       accepted_at, updated_at, completed_at
		FROM orders WHERE order_id = $1 AND `+ownerClause, orderID, owner,
	).Scan(&r.OrderID, &r.WorkflowID, &r.Payment.PaymentID, &state, &step, &r.Terminal, &r.Payment.AmountCents,
		&items, &address, &r.ManualReview, &r.Payment.Status, &r.FailureReason, &snap, &r.LastSeq, &lastType,
		&r.AcceptedAt, &r.UpdatedAt, &r.CompletedAt)
	if err != nil {
		return r, notFound(err)
	}
	r.State, r.Step, r.LastEventType = domain.OrderState(state), domain.Step(step), contracts.EventType(lastType)
	if err := json.Unmarshal(items, &r.Items); err != nil {
		return r, fmt.Errorf("decode items of %s: %w", orderID, err)
	}
	if err := json.Unmarshal(address, &r.Address); err != nil {
		return r, fmt.Errorf("decode address of %s: %w", orderID, err)
	}
	var st contracts.OrderStatus
	if err := json.Unmarshal(snap, &st); err != nil {
		return r, fmt.Errorf("decode snapshot of %s: %w", orderID, err)
	}
	r.Payment.ChargedAt, r.Payment.RefundedAt = st.Payment.ChargedAt, st.Payment.RefundedAt
	r.Shipping, r.Attempts, r.RecentErrors, r.Signals = st.Shipping, st.Attempts, st.RecentErrors, st.Signals
	return r, nil
}

// Events returns the audit log; an order without a row is ErrNotFound,
// an order with a row but no events yet is an empty list.
func (s *Store) Events(ctx context.Context, orderID, owner string) ([]app.EventRecord, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT e.event_id, e.seq, e.type, e.occurred_at, e.snapshot->>'state', COALESCE(e.snapshot->>'step', ''), e.data, e.projected_at
		FROM events e JOIN orders o USING (order_id)
		WHERE e.order_id = $1 AND ($2 = '' OR o.owner = $2) ORDER BY e.seq`, orderID, owner)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.EventRecord, error) {
		var (
			e                app.EventRecord
			typ, state, step string
			data             []byte
		)
		if err := row.Scan(&e.EventID, &e.Seq, &typ, &e.OccurredAt, &state, &step, &data, &e.ProjectedAt); err != nil {
			return e, err
		}
		e.Type, e.State, e.Step = contracts.EventType(typ), domain.OrderState(state), domain.Step(step)
		if err := json.Unmarshal(data, &e.Data); err != nil {
			return e, fmt.Errorf("decode data of %s: %w", e.EventID, err)
		}
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	if len(evs) > 0 {
		return evs, nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE order_id = $1 AND `+ownerClause+`)`, orderID, owner).Scan(&exists); err != nil {
		return nil, fmt.Errorf("check order: %w", err)
	}
	if !exists {
		return nil, app.ErrNotFound
	}
	return []app.EventRecord{}, nil
}

// List pages through orders newest first by keyset on (accepted_at,
// order_id), which the orders_state_accepted_idx and orders_accepted_idx
// indexes (and their owner-prefixed twins) serve without sorting or offset
// scans.
func (s *Store) List(ctx context.Context, f app.ListFilter) (app.Page, error) {
	var (
		where []string
		args  []any
	)
	if f.Owner != "" {
		args = append(args, f.Owner)
		where = append(where, fmt.Sprintf("owner = $%d", len(args)))
	}
	if f.State != "" {
		args = append(args, string(f.State))
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	if f.After != nil {
		args = append(args, f.After.AcceptedAt, f.After.OrderID)
		where = append(where, fmt.Sprintf("(accepted_at, order_id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	q := `SELECT order_id, state, step, terminal, payment_id, payment_status, amount_cents, tracking_number,
	             accepted_at, updated_at, completed_at
	      FROM orders`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit+1)
	q += fmt.Sprintf(" ORDER BY accepted_at DESC, order_id DESC LIMIT $%d", len(args))

	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return app.Page{}, fmt.Errorf("query orders: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (app.OrderSummary, error) {
		var (
			o           app.OrderSummary
			state, step string
		)
		err := row.Scan(&o.OrderID, &state, &step, &o.Terminal, &o.PaymentID, &o.PaymentStatus, &o.AmountCents,
			&o.TrackingNumber, &o.AcceptedAt, &o.UpdatedAt, &o.CompletedAt)
		o.State, o.Step = domain.OrderState(state), domain.Step(step)
		return o, err
	})
	if err != nil {
		return app.Page{}, fmt.Errorf("read orders: %w", err)
	}
	p := app.Page{Orders: list}
	if len(list) > f.Limit {
		p.Orders = list[:f.Limit]
		last := p.Orders[f.Limit-1]
		p.Next = &app.Cursor{AcceptedAt: last.AcceptedAt.UTC().Truncate(time.Microsecond), OrderID: last.OrderID}
	}
	return p, nil
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return app.ErrNotFound
	}
	return fmt.Errorf("query order: %w", err)
}
