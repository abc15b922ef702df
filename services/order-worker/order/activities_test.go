package order

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/testenv"
)

// The payment activities run here without faults, straight against a real
// PostgreSQL database with the migrations applied.

func TestChargeTwiceChargesOnce(t *testing.T) {
	in := newInfra(t)
	a := &Activities{Pool: in.Pool, Log: in.log}
	p := PaymentInput{OrderID: "o1", PaymentID: "p1", AmountCents: 2500, Attempt: 1}
	first, err := a.ChargePayment(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	p.Attempt = 2
	second, err := a.ChargePayment(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !first.ChargedAt.Equal(*second.ChargedAt) || second.Status != PaymentStatusCharged || second.AmountCents != 2500 {
		t.Fatalf("second charge %+v differs from first %+v", second, first)
	}
	if rows, calls := in.paymentTotals(t); rows != 1 || calls != 2 {
		t.Fatalf("%d payment rows with %d calls, want 1 row, 2 calls", rows, calls)
	}
}

func TestConcurrentIdenticalChargesChargeOnce(t *testing.T) {
	in := newInfra(t)
	a := &Activities{Pool: in.Pool, Log: in.log}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			_, err := a.ChargePayment(context.Background(), PaymentInput{OrderID: "o1", PaymentID: "p1", AmountCents: 999, Attempt: i + 1})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent charge: %v", err)
		}
	}
	if rows, calls := in.paymentTotals(t); rows != 1 || calls != 20 {
		t.Fatalf("%d rows, %d calls: want one charge seen 20 times", rows, calls)
	}
}

func TestPaymentIDOfAnotherOrderIsRefusedForGood(t *testing.T) {
	in := newInfra(t)
	a := &Activities{Pool: in.Pool, Log: in.log}
	ctx := context.Background()
	if _, err := a.ChargePayment(ctx, PaymentInput{OrderID: "owner", PaymentID: "p1", AmountCents: 100, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := a.ChargePayment(ctx, PaymentInput{OrderID: "intruder", PaymentID: "p1", AmountCents: 100, Attempt: 1})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrTypePaymentConflict {
		t.Fatalf("got %v, want a non-retryable %s", err, ErrTypePaymentConflict)
	}
	// Nor may the other order refund it: its compensation finds nothing of
	// its own (not_charged) and leaves the owner's charge alone.
	r, err := a.RefundPayment(ctx, PaymentInput{OrderID: "intruder", PaymentID: "p1", Attempt: 1})
	if err != nil || r.Status != PaymentStatusNotCharged {
		t.Fatalf("refund by another order: got %+v %v, want not_charged", r, err)
	}
	if owner, status, calls, _ := in.payment(t, "p1"); owner != "owner" || status != "charged" || calls != 1 {
		t.Fatalf("payment now %s %s calls=%d", owner, status, calls)
	}
}

func TestRefundTwiceRefundsOnce(t *testing.T) {
	in := newInfra(t)
	a := &Activities{Pool: in.Pool, Log: in.log}
	ctx := context.Background()
	p := PaymentInput{OrderID: "o1", PaymentID: "p1", AmountCents: 100, Attempt: 1}
	if _, err := a.ChargePayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	first, err := a.RefundPayment(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.RefundPayment(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != PaymentStatusRefunded || second.RefundedAt == nil || !first.RefundedAt.Equal(*second.RefundedAt) {
		t.Fatalf("refunds %+v then %+v: want one refund time", first, second)
	}
	// A charge retried after the refund must not charge again.
	_, err = a.ChargePayment(ctx, p)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypePaymentRefunded {
		t.Fatalf("charge after refund: got %v, want %s", err, ErrTypePaymentRefunded)
	}
	if _, status, _, _ := in.payment(t, "p1"); status != "refunded" {
		t.Fatalf("status %s", status)
	}
}

// A charge attempt that timed out may still commit after the cancel's
// refund ran. The refund of a payment never charged leaves a tombstone, so
// that late charge is refused and the customer keeps the money.
func TestChargeLandingAfterRefundIsRefused(t *testing.T) {
	in := newInfra(t)
	a := &Activities{Pool: in.Pool, Log: in.log}
	ctx := context.Background()
	p := PaymentInput{OrderID: "o2", PaymentID: "p2", AmountCents: 100, Attempt: 1}
	voided, err := a.RefundPayment(ctx, p)
	if err != nil || voided.Status != PaymentStatusVoided || voided.ChargedAt != nil {
		t.Fatalf("refund of nothing: %+v %v, want voided", voided, err)
	}
	_, err = a.ChargePayment(ctx, p)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrTypePaymentRefunded {
		t.Fatalf("late charge: got %v, want a non-retryable %s", err, ErrTypePaymentRefunded)
	}
	if _, status, _, _ := in.payment(t, "p2"); status != PaymentStatusVoided {
		t.Fatalf("payment row %q after the late charge, want voided", status)
	}
	// Refunding again keeps the tombstone.
	if again, err := a.RefundPayment(ctx, p); err != nil || again.Status != PaymentStatusVoided {
		t.Fatalf("second refund: %+v %v", again, err)
	}
}

// A later round of a step (after its budget ran out) draws faults afresh:
// were its attempts to repeat the first round's draws, a step that failed
// every attempt of a round would fail the next ones the same way.
func TestLaterRoundDrawsFreshFaults(t *testing.T) {
	a := &Activities{Faults: faults.New(faults.Config{FailRate: 0.5, Seed: 3}), Log: testenv.LoggerAt(t, slog.LevelError)}
	outcomes := func(round int) (s string) {
		for attempt := 1; attempt <= 32; attempt++ {
			if a.inject(context.Background(), domain.StepReceive, "o1", attempt, round) != nil {
				s += "x"
			} else {
				s += "."
			}
		}
		return s
	}
	if r1, r2 := outcomes(1), outcomes(2); r1 == r2 {
		t.Fatalf("round 2 repeats round 1's faults: %s", r1)
	}
	if outcomes(1) != outcomes(0) {
		t.Fatal("round 1 must draw as a step without rounds (v0, recorded histories)")
	}
}
