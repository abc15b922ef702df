package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
)

// LiveStatus asks the bridge for the workflow's own view of an order.
type LiveStatus interface {
	Status(ctx context.Context, orderID string) (contracts.StatusReply, error)
}

// Store reads the projection in PostgreSQL. Lookups of one order return
// ErrNotFound when the order has no row.
//
// owner is the client asking: an order of another owner is ErrNotFound, as
// if it did not exist. An empty owner (the API without keys) sees every
// order.
type Store interface {
	Owner(ctx context.Context, orderID string) (string, error)
	Projection(ctx context.Context, orderID, owner string) (Projection, error)
	Order(ctx context.Context, orderID, owner string) (OrderRecord, error)
	Events(ctx context.Context, orderID, owner string) ([]EventRecord, error)
	List(ctx context.Context, f ListFilter) (Page, error)
}

// Queries answers reads about orders.
type Queries struct {
	live  LiveStatus
	store Store
	log   *slog.Logger
}

// NewQueries wires the read side to its sources.
func NewQueries(live LiveStatus, store Store, log *slog.Logger) *Queries {
	return &Queries{live: live, store: store, log: log}
}

// Status prefers the live workflow, which knows pending retries, and falls
// back to the projection when the bridge does not answer or does not know
// the order (for example once its history is gone), saying which answered.
func (q *Queries) Status(ctx context.Context, orderID, owner string) (StatusView, error) {
	if err := contracts.ValidateOrderID(orderID); err != nil {
		return StatusView{}, err
	}
	log := q.log.With(logging.KeyOrderID, orderID)
	reply, err := q.live.Status(ctx, orderID)
	var liveErr string
	switch {
	case err != nil:
		liveErr = err.Error()
	case owner != "" && reply.OwnerKnown && reply.Owner != owner:
		return StatusView{}, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	case owner != "" && !reply.OwnerKnown:
		// Without the owner the live view cannot be shown; the
		// projection, filtered by owner, still can.
		liveErr = cmp.Or(reply.Error, "live status did not name the owner")
		reply = contracts.StatusReply{}
	case reply.Status != nil:
		return StatusView{
			Source:         "temporal",
			OrderID:        orderID,
			WorkflowID:     reply.WorkflowID,
			RunID:          reply.RunID,
			WorkflowStatus: reply.WorkflowStatus,
			Status:         *reply.Status,
			Pending:        reply.Pending,
		}, nil
	case reply.NotFound:
		liveErr = "workflow not found"
	case reply.Error != "":
		liveErr = reply.Error
	default:
		liveErr = "bridge answered without a status"
	}
	log.Debug("live status unavailable, using projection", "reason", liveErr)

	p, err := q.store.Projection(ctx, orderID, owner)
	if errors.Is(err, ErrNotFound) {
		return StatusView{}, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return StatusView{}, unavailable("read projection", err)
	}
	at := p.UpdatedAt
	// Temporal may still have described the run (state, pending retries)
	// when only the status query failed; keep that part of the live view.
	return StatusView{
		Source:         "projection",
		OrderID:        orderID,
		WorkflowID:     p.Snapshot.WorkflowID,
		RunID:          reply.RunID,
		WorkflowStatus: reply.WorkflowStatus,
		Status:         p.Snapshot,
		Pending:        reply.Pending,
		ProjectedSeq:   p.LastSeq,
		ProjectedAt:    &at,
		LiveError:      liveErr,
	}, nil
}

// Order returns the projected order.
func (q *Queries) Order(ctx context.Context, orderID, owner string) (OrderRecord, error) {
	if err := contracts.ValidateOrderID(orderID); err != nil {
		return OrderRecord{}, err
	}
	rec, err := q.store.Order(ctx, orderID, owner)
	return rec, storeErr("read order "+orderID, err)
}

// Events returns the order's audit log in sequence order.
func (q *Queries) Events(ctx context.Context, orderID, owner string) ([]EventRecord, error) {
	if err := contracts.ValidateOrderID(orderID); err != nil {
		return nil, err
	}
	evs, err := q.store.Events(ctx, orderID, owner)
	return evs, storeErr("read events of "+orderID, err)
}

// OrderOwner says who owns orderID: known is false when neither the
// projection nor the live workflow could name the owner (the order does
// not exist yet, or the bridge did not answer: err tells which).
func (q *Queries) OrderOwner(ctx context.Context, orderID string) (owner string, known bool, err error) {
	owner, err = q.store.Owner(ctx, orderID)
	switch {
	case err == nil:
		return owner, true, nil
	case !errors.Is(err, ErrNotFound):
		return "", false, unavailable("read order owner", err)
	}
	reply, err := q.live.Status(ctx, orderID)
	switch {
	case err != nil:
		return "", false, unavailable("live status", err)
	case reply.OwnerKnown:
		return reply.Owner, true, nil
	case reply.NotFound:
		return "", false, ErrNotFound
	default:
		return "", false, unavailable("live status", errors.New(reply.Error))
	}
}

// MaxListLimit bounds one page of the order list.
const MaxListLimit = 200

// List returns one page of orders, newest first.
func (q *Queries) List(ctx context.Context, f ListFilter) (Page, error) {
	if f.State != "" && !slices.Contains(States, f.State) {
		return Page{}, &domain.FieldError{Field: "status", Reason: fmt.Sprintf("%q is not an order state", f.State)}
	}
	if f.Limit < 1 || f.Limit > MaxListLimit {
		return Page{}, &domain.FieldError{Field: "limit", Reason: fmt.Sprintf("must be between 1 and %d", MaxListLimit)}
	}
	p, err := q.store.List(ctx, f)
	return p, storeErr("list orders", err)
}

// States lists every order state, for validation and documentation.
var States = []domain.OrderState{
	domain.StateReceived, domain.StateValidated, domain.StateAwaitingApproval,
	domain.StateApproved, domain.StatePaid, domain.StateShipping,
	domain.StateDispatched, domain.StateShipped, domain.StateCancelled, domain.StateFailed,
}

func storeErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%s: %w", what, err)
	default:
		return unavailable(what, err)
	}
}
