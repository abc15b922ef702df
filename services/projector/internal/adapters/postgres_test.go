package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orderflow/orderflow/services/projector/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/permanent"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
	}{
		{"NUL byte", &pgconn.PgError{Code: "22021"}, true},
		{"bad JSON escape", &pgconn.PgError{Code: "22P05"}, true},
		{"check violation", &pgconn.PgError{Code: "23514"}, true},
		{"foreign key violation", &pgconn.PgError{Code: "23503"}, true},
		{"row too big", &pgconn.PgError{Code: "54000"}, true},
		{"unique race", &pgconn.PgError{Code: "23505"}, false},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, false},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, false},
		{"missing table", &pgconn.PgError{Code: "42P01"}, false},
		{"connection refused", errors.New("dial tcp: connection refused"), false},
		{"wrapped", fmt.Errorf("write: %w", &pgconn.PgError{Code: "22021"}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := permanent.Is(classify(tc.err)); got != tc.permanent {
				t.Errorf("classify(%v) permanent = %v, want %v", tc.err, got, tc.permanent)
			}
		})
	}
}

func ev(orderID string, seq int64, state domain.OrderState) app.Event {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	snap := contracts.OrderStatus{
		OrderID: orderID, WorkflowID: contracts.OrderWorkflowID(orderID), State: state, Step: domain.StepReceive,
		Items: domain.DefaultItems(), Address: domain.DefaultAddress(),
		Payment:    contracts.PaymentInfo{PaymentID: "pay-" + orderID, AmountCents: 1999 * seq, Status: "pending"},
		AcceptedAt: at, Owner: "client-" + orderID,
	}
	raw, _ := json.Marshal(snap)
	return app.Event{Event: contracts.Event{
		ID: contracts.EventID(orderID, seq), SchemaVersion: 1, Type: contracts.EventType(state), OrderID: orderID,
		Seq: seq, Time: at.Add(time.Duration(seq) * time.Second), WorkflowID: snap.WorkflowID, Order: snap,
	}, Snapshot: raw}
}

// The orders row follows the highest seq whatever the write order, and the
// events table keeps exactly one row per event.
func TestWriteMovesOrdersOnlyForward(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t, testenv.Postgres(t))
	s := NewStore(pool)
	if empty, err := s.IsEmpty(ctx); err != nil || !empty {
		t.Fatalf("IsEmpty on a fresh database = %v, %v", empty, err)
	}
	steps := [][]app.Event{
		{ev("fw-1", 3, domain.StatePaid)},
		{ev("fw-1", 1, domain.StateReceived), ev("fw-1", 2, domain.StateValidated)}, // late and older
		{ev("fw-1", 3, domain.StatePaid), ev("fw-1", 3, domain.StatePaid)},          // duplicate in one batch
		{ev("fw-1", 4, domain.StateShipped), ev("fw-1", 2, domain.StateValidated)},  // newer and older together
	}
	for i, batch := range steps {
		if err := s.Write(ctx, batch); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	var (
		state, lastType string
		lastSeq, amount int64
		terminal        bool
		events          int
		owner           string
	)
	if err := pool.QueryRow(ctx, `SELECT state, last_event_type, last_seq, amount_cents, terminal,
		(SELECT count(*) FROM events), owner FROM orders WHERE order_id = 'fw-1'`).
		Scan(&state, &lastType, &lastSeq, &amount, &terminal, &events, &owner); err != nil {
		t.Fatal(err)
	}
	if owner != "client-fw-1" {
		t.Fatalf("owner column %q, want the snapshot's client-fw-1", owner)
	}
	if state != "shipped" || lastType != "shipped" || lastSeq != 4 || amount != 4*1999 || !terminal || events != 4 {
		t.Fatalf("got state=%s type=%s seq=%d amount=%d terminal=%v events=%d; want shipped/shipped/4/%d/true/4",
			state, lastType, lastSeq, amount, terminal, events, 4*1999)
	}
	if empty, err := s.IsEmpty(ctx); err != nil || empty {
		t.Fatalf("IsEmpty after writes = %v, %v", empty, err)
	}
}
