package order

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/services/order-worker/order/activityio"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	stepx "github.com/orderflow/orderflow/shared/step"
)

// Non-retryable error types returned by the activities.
const (
	ErrTypeInvalidOrder    = "InvalidOrder"
	ErrTypePaymentConflict = "PaymentIDConflict"
	ErrTypePaymentRefunded = "PaymentAlreadyRefunded"
	PaymentStatusPending   = "pending"
	PaymentStatusCharged   = "charged"
	PaymentStatusRefunded  = "refunded"
	// PaymentStatusVoided: a refund found no charge and left a tombstone,
	// so a charge attempt landing later is refused.
	PaymentStatusVoided = "voided"
	// PaymentStatusNotCharged: the payment_id belongs to another order, so
	// there was nothing of this order's to refund.
	PaymentStatusNotCharged = "not_charged"
)

// StepResult is what a step without other output returns: the attempt that
// succeeded, so status can show how many a step took.
type StepResult struct {
	Attempt int `json:"attempt"`
}

// Activity arguments (shared with v0, see activityio).
type (
	StepInput    = activityio.StepInput
	PaymentInput = activityio.PaymentInput
)

// PaymentResult is the payment row after a charge or refund.
type PaymentResult struct {
	Attempt     int        `json:"attempt"`
	Status      string     `json:"status"`
	AmountCents int64      `json:"amount_cents"`
	ChargedAt   *time.Time `json:"charged_at,omitempty"`
	RefundedAt  *time.Time `json:"refunded_at,omitempty"`
}

// Activities are OrderWorkflow's steps and its event publishing, run as
// Temporal activities on the orders task queue. Business steps go through
// the fault injector first; publishing is infrastructure and does not.
type Activities struct {
	Pool   *pgxpool.Pool
	JS     jetstream.JetStream
	Faults *faults.Injector
	Log    *slog.Logger
}

// inject applies the fault injector to this attempt. The attempt comes from
// Temporal (v1 workflows) or, for v0 local activities, from the argument. A
// later round of a step draws afresh: its attempts count from 1 again.
func (a *Activities) inject(ctx context.Context, step domain.Step, orderID string, argAttempt, round int) error {
	attempt := argAttempt
	if attempt == 0 {
		attempt = stepx.Attempt(ctx)
	}
	key := orderID
	if round > 1 {
		key += "#r" + strconv.Itoa(round)
	}
	if err := a.Faults.Inject(ctx, string(step), key, attempt); err != nil {
		a.Log.DebugContext(ctx, "fault injected", logging.KeyOrderID, orderID, logging.KeyStep, step,
			logging.KeyAttempt, attempt, logging.KeyWorkflowID, workflowID(ctx), logging.Err(err))
		return err
	}
	return nil
}

// workflowID names the activity's workflow, for logs ("" outside one).
func workflowID(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	return activity.GetInfo(ctx).WorkflowExecution.ID
}

// ReceiveOrder acknowledges the order. The record itself is the received
// event the workflow publishes once this step succeeds.
func (a *Activities) ReceiveOrder(ctx context.Context, in StepInput) (StepResult, error) {
	if err := a.inject(ctx, domain.StepReceive, in.OrderID, in.Attempt, in.Round); err != nil {
		return StepResult{}, err
	}
	return StepResult{Attempt: stepx.Attempt(ctx)}, nil
}

// ValidateOrder checks the items; an invalid order can never become valid,
// so that failure is non-retryable.
func (a *Activities) ValidateOrder(ctx context.Context, in StepInput) (StepResult, error) {
	if err := a.inject(ctx, domain.StepValidate, in.OrderID, in.Attempt, in.Round); err != nil {
		return StepResult{}, err
	}
	if err := domain.ValidateItems(in.Items); err != nil {
		return StepResult{}, temporal.NewNonRetryableApplicationError("invalid order: "+err.Error(), ErrTypeInvalidOrder, err)
	}
	return StepResult{Attempt: stepx.Attempt(ctx)}, nil
}

// chargeSQL charges at most once per payment_id: a retry, a duplicate
// activity or a concurrent charge of the same order only counts the call; a
// payment_id that belongs to another order matches no row (the WHERE of the
// DO UPDATE is false), so nothing is returned. A refunded or voided row is
// returned as it is: the charge is refused.
const chargeSQL = `
INSERT INTO payments (payment_id, order_id, amount_cents, status, charged_at)
VALUES ($1, $2, $3, 'charged', now())
ON CONFLICT (payment_id) DO UPDATE SET charge_calls = payments.charge_calls + 1
WHERE payments.order_id = EXCLUDED.order_id
RETURNING status, amount_cents, charged_at, refunded_at`

// ChargePayment charges the order's payment exactly once.
func (a *Activities) ChargePayment(ctx context.Context, in PaymentInput) (PaymentResult, error) {
	if err := a.inject(ctx, domain.StepChargePayment, in.OrderID, in.Attempt, in.Round); err != nil {
		return PaymentResult{}, err
	}
	r, err := a.writePayment(ctx, chargeSQL, in)
	if errors.Is(err, pgx.ErrNoRows) {
		return PaymentResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("payment_id %q is already used by another order", in.PaymentID), ErrTypePaymentConflict, nil)
	}
	if err != nil {
		return PaymentResult{}, fmt.Errorf("charge payment %s: %w", in.PaymentID, err)
	}
	if r.Status != PaymentStatusCharged {
		return r, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("payment_id %q was already %s", in.PaymentID, r.Status), ErrTypePaymentRefunded, nil)
	}
	return r, nil
}

// refundSQL refunds a charge once, or, when no charge has committed yet,
// leaves a 'voided' tombstone that a charge attempt committing later cannot
// get past (chargeSQL returns the row and the charge is refused). A
// payment_id of another order matches no row.
const refundSQL = `
INSERT INTO payments (payment_id, order_id, amount_cents, status, charge_calls, refunded_at)
VALUES ($1, $2, $3, 'voided', 0, now())
ON CONFLICT (payment_id) DO UPDATE
SET status = CASE WHEN payments.status = 'charged' THEN 'refunded' ELSE payments.status END,
    refunded_at = COALESCE(payments.refunded_at, now())
WHERE payments.order_id = EXCLUDED.order_id
RETURNING status, amount_cents, charged_at, refunded_at`

// RefundPayment compensates ChargePayment: it refunds a charged payment
// once (refunding again returns the first refund), voids one that was never
// charged, and reports not_charged for a payment_id of another order.
func (a *Activities) RefundPayment(ctx context.Context, in PaymentInput) (PaymentResult, error) {
	if err := a.inject(ctx, domain.StepRefundPayment, in.OrderID, in.Attempt, in.Round); err != nil {
		return PaymentResult{}, err
	}
	r, err := a.writePayment(ctx, refundSQL, in)
	if errors.Is(err, pgx.ErrNoRows) {
		return PaymentResult{Attempt: r.Attempt, Status: PaymentStatusNotCharged}, nil
	}
	if err != nil {
		return PaymentResult{}, fmt.Errorf("refund payment %s: %w", in.PaymentID, err)
	}
	return r, nil
}

// writePayment runs q (chargeSQL or refundSQL) for in and returns the
// payment row it leaves; pgx.ErrNoRows means the payment_id belongs to
// another order. The result carries this attempt either way.
func (a *Activities) writePayment(ctx context.Context, q string, in PaymentInput) (PaymentResult, error) {
	r := PaymentResult{Attempt: stepx.Attempt(ctx)}
	err := a.Pool.QueryRow(ctx, q, in.PaymentID, in.OrderID, in.AmountCents).
		Scan(&r.Status, &r.AmountCents, &r.ChargedAt, &r.RefundedAt)
	return r, err
}

// PublishEvents publishes a batch of events in seq order, one at a time,
// each after JetStream has stored the one before: with the batch in flight
// at once, a stream leader dying mid-batch stored a later event while an
// earlier one failed, and the retry stored the earlier one after it (the
// production chaos benchmark saw `3,1,2`), so a per-order subscriber saw
// the order's events out of seq order. Each event ID is its Nats-Msg-Id, so
// a retried batch is dropped by the broker for what it already stored (and
// the projector's seq guard covers repeats after the dedup window).
func (a *Activities) PublishEvents(ctx context.Context, events []contracts.Event) error {
	for _, e := range events {
		m, err := natsx.EventMsg(e)
		if err != nil {
			return temporal.NewNonRetryableApplicationError("encode event "+e.ID, "EventEncoding", err)
		}
		natsx.InjectTrace(ctx, m)
		if _, err := a.JS.PublishMsg(ctx, m); err != nil {
			return fmt.Errorf("publish event %s: %w", e.ID, err)
		}
	}
	return nil
}

// PublishEvent publishes one event (v0 workflows publish one at a time).
func (a *Activities) PublishEvent(ctx context.Context, e contracts.Event) error {
	m, err := natsx.EventMsg(e)
	if err != nil {
		return err
	}
	natsx.InjectTrace(ctx, m)
	if _, err := a.JS.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("publish event %s: %w", e.ID, err)
	}
	return nil
}
