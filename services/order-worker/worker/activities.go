package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
)

// Non-retryable error types returned by the activities.
const (
	ErrTypeInvalidOrder     = "InvalidOrder"
	ErrTypePaymentConflict  = "PaymentIDConflict"
	ErrTypePaymentRefunded  = "PaymentAlreadyRefunded"
	PaymentStatusPending    = "pending"
	PaymentStatusCharged    = "charged"
	PaymentStatusRefunded   = "refunded"
	PaymentStatusNotCharged = "not_charged"
)

// StepInput is the argument of the receive and validate steps.
type StepInput struct {
	OrderID string           `json:"order_id"`
	Attempt int              `json:"attempt"`
	Items   []contracts.Item `json:"items"`
}

// PaymentInput is the argument of charge and refund.
type PaymentInput struct {
	OrderID     string `json:"order_id"`
	PaymentID   string `json:"payment_id"`
	AmountCents int64  `json:"amount_cents"`
	Attempt     int    `json:"attempt"`
}

// PaymentResult is the payment row after a charge or refund.
type PaymentResult struct {
	Status      string     `json:"status"`
	AmountCents int64      `json:"amount_cents"`
	ChargedAt   *time.Time `json:"charged_at,omitempty"`
	RefundedAt  *time.Time `json:"refunded_at,omitempty"`
}

// Activities are OrderWorkflow's steps, run as local activities, plus event
// publishing. Business steps go through the fault injector first; publishing
// is infrastructure and does not.
type Activities struct {
	Pool   *pgxpool.Pool
	JS     jetstream.JetStream
	Faults *faults.Injector
	Log    *slog.Logger
}

func (a *Activities) inject(ctx context.Context, step contracts.Step, orderID string, attempt int) error {
	if err := a.Faults.Inject(ctx, string(step), orderID, attempt); err != nil {
		a.Log.DebugContext(ctx, "fault injected", logging.KeyOrderID, orderID, logging.KeyStep, step,
			logging.KeyAttempt, attempt, logging.KeyWorkflowID, activity.GetInfo(ctx).WorkflowExecution.ID, logging.Err(err))
		return err
	}
	return nil
}

// ReceiveOrder acknowledges the order. The record itself is the received
// event the workflow publishes once this step succeeds.
func (a *Activities) ReceiveOrder(ctx context.Context, in StepInput) error {
	return a.inject(ctx, contracts.StepReceive, in.OrderID, in.Attempt)
}

// ValidateOrder checks the items; an invalid order can never become valid,
// so that failure is non-retryable.
func (a *Activities) ValidateOrder(ctx context.Context, in StepInput) error {
	if err := a.inject(ctx, contracts.StepValidate, in.OrderID, in.Attempt); err != nil {
		return err
	}
	if err := contracts.ValidateItems(in.Items); err != nil {
		return temporal.NewNonRetryableApplicationError("invalid order: "+err.Error(), ErrTypeInvalidOrder, err)
	}
	return nil
}

// chargeSQL charges at most once per payment_id: a retry, a duplicate
// activity or a concurrent charge of the same order only counts the call; a
// payment_id that belongs to another order matches no row (the WHERE of the
// DO UPDATE is false), so nothing is returned.
const chargeSQL = `
INSERT INTO payments (payment_id, order_id, amount_cents, status)
VALUES ($1, $2, $3, 'charged')
ON CONFLICT (payment_id) DO UPDATE SET charge_calls = payments.charge_calls + 1
WHERE payments.order_id = EXCLUDED.order_id
RETURNING status, amount_cents, charged_at, refunded_at`

// ChargePayment charges the order's payment exactly once.
func (a *Activities) ChargePayment(ctx context.Context, in PaymentInput) (PaymentResult, error) {
	if err := a.inject(ctx, contracts.StepChargePayment, in.OrderID, in.Attempt); err != nil {
		return PaymentResult{}, err
	}
	var r PaymentResult
	var chargedAt time.Time
	err := a.Pool.QueryRow(ctx, chargeSQL, in.PaymentID, in.OrderID, in.AmountCents).
		Scan(&r.Status, &r.AmountCents, &chargedAt, &r.RefundedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return PaymentResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("payment_id %q is already used by another order", in.PaymentID), ErrTypePaymentConflict, nil)
	}
	if err != nil {
		return PaymentResult{}, fmt.Errorf("charge payment %s: %w", in.PaymentID, err)
	}
	r.ChargedAt = &chargedAt
	if r.Status == PaymentStatusRefunded {
		return r, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("payment_id %q was already refunded", in.PaymentID), ErrTypePaymentRefunded, nil)
	}
	return r, nil
}

// RefundPayment refunds a charged payment once; refunding again returns the
// first refund, and a payment that was never charged is reported as
// not_charged (a cancel that raced a charge attempt which did not commit).
func (a *Activities) RefundPayment(ctx context.Context, in PaymentInput) (PaymentResult, error) {
	if err := a.inject(ctx, contracts.StepRefundPayment, in.OrderID, in.Attempt); err != nil {
		return PaymentResult{}, err
	}
	var r PaymentResult
	var chargedAt time.Time
	err := a.Pool.QueryRow(ctx, `
UPDATE payments SET status = 'refunded', refunded_at = COALESCE(refunded_at, now())
WHERE payment_id = $1 AND order_id = $2
RETURNING status, amount_cents, charged_at, refunded_at`, in.PaymentID, in.OrderID).
		Scan(&r.Status, &r.AmountCents, &chargedAt, &r.RefundedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := a.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payments WHERE payment_id = $1)`, in.PaymentID).Scan(&exists); err != nil {
			return PaymentResult{}, fmt.Errorf("refund payment %s: %w", in.PaymentID, err)
		}
		if exists {
			return PaymentResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("payment_id %q belongs to another order", in.PaymentID), ErrTypePaymentConflict, nil)
		}
		return PaymentResult{Status: PaymentStatusNotCharged}, nil
	}
	if err != nil {
		return PaymentResult{}, fmt.Errorf("refund payment %s: %w", in.PaymentID, err)
	}
	r.ChargedAt = &chargedAt
	return r, nil
}

// PublishEvent publishes one event to JetStream. The event ID is the
// Nats-Msg-Id, so a retried publish is dropped by the broker.
func (a *Activities) PublishEvent(ctx context.Context, e contracts.Event) error {
	m, err := natsx.EventMsg(e)
	if err != nil {
		return err
	}
	if _, err := a.JS.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("publish event %s: %w", e.ID, err)
	}
	return nil
}
