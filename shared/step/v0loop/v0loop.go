// Package v0loop is the frozen v0 workflows' step runner: one business
// step as a series of local activities, one per attempt, retried by
// workflow code instead of by the SDK's retry policy. Only the v0 code in
// services/order-worker/order/v0 and services/shipping-worker/shipment/v0
// uses it, to finish orders started before steps became activities;
// current code runs steps with shared/step. It must not change: replay
// tests hold it to the histories those orders recorded.
//
// Why a loop in workflow code: under the exercise's faults (33% fail, 34%
// hang) a step needs about three attempts. A local activity attempt costs
// no server round trip and no backoff, a hang costs exactly the timeout, and
// because the workflow counts the attempts itself it can show them (and each
// error with its time) in the status query, log every retry with order ID,
// step and attempt, and bound the attempts of a step such as dispatch.
package v0loop

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
)

// ErrStopped is returned when Stop asked to give up before an attempt.
var ErrStopped = errors.New("step stopped before its next attempt")

// ErrExhausted is returned, wrapping the last error, after MaxAttempts.
var ErrExhausted = errors.New("step attempts exhausted")

// Step describes one business step.
type Step struct {
	Name domain.Step
	// Timeout bounds one attempt (StartToClose of its local activity): a
	// hanging attempt costs exactly this long.
	Timeout time.Duration
	// MaxAttempts bounds the attempts; 0 retries until success.
	MaxAttempts int
	// FirstAttempt numbers the first attempt (attempts already made + 1),
	// so a step resumed in a new shipping attempt keeps counting.
	FirstAttempt int
	// Stop is checked before every attempt after the first; returning true
	// ends the step with ErrStopped (a cancel arrived).
	Stop func() bool
	// OnAttempt and OnError feed the workflow's status.
	OnAttempt func(attempt int)
	OnError   func(attempt int, err error)
	Logger    log.Logger
}

// Run executes activity with the argument made by arg(attempt) until it
// succeeds, decoding its result into result (may be nil). A non-retryable
// ApplicationError or a cancelled workflow context ends the loop at once.
// It returns the number of the last attempt made.
func Run(ctx workflow.Context, s Step, activity any, arg func(attempt int) any, result any) (int, error) {
	actx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: s.Timeout,
		// One attempt per local activity: this loop is the retry policy.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	attempt := s.FirstAttempt
	if attempt < 1 {
		attempt = 1
	}
	for n := 1; ; n, attempt = n+1, attempt+1 {
		if n > 1 && s.Stop != nil && s.Stop() {
			return attempt - 1, ErrStopped
		}
		if s.OnAttempt != nil {
			s.OnAttempt(attempt)
		}
		err := workflow.ExecuteLocalActivity(actx, activity, arg(attempt)).Get(actx, result)
		if err == nil {
			if n > 1 && s.Logger != nil {
				s.Logger.Info("step succeeded after retries", logging.KeyStep, s.Name, logging.KeyAttempt, attempt)
			}
			return attempt, nil
		}
		if ctx.Err() != nil {
			return attempt, fmt.Errorf("%s: %w", s.Name, ctx.Err())
		}
		if s.OnError != nil {
			s.OnError(attempt, err)
		}
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.NonRetryable() {
			if s.Logger != nil {
				s.Logger.Warn("step failed permanently", logging.KeyStep, s.Name, logging.KeyAttempt, attempt, logging.KeyError, err)
			}
			return attempt, fmt.Errorf("%s: %w", s.Name, err)
		}
		if s.Logger != nil {
			what := "step attempt failed, retrying"
			if temporal.IsTimeoutError(err) {
				what = "step attempt timed out, retrying"
			}
			s.Logger.Info(what, logging.KeyStep, s.Name, logging.KeyAttempt, attempt, logging.KeyError, err)
		}
		if s.MaxAttempts > 0 && n >= s.MaxAttempts {
			return attempt, fmt.Errorf("%s after %d attempts: %w: %w", s.Name, n, ErrExhausted, err)
		}
	}
}

// Message is the short text of err kept in status: the innermost cause,
// without the SDK's activity wrapper.
func Message(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Error()
	}
	var toErr *temporal.TimeoutError
	if errors.As(err, &toErr) {
		// The SDK reports a local activity's StartToClose as ScheduleToClose;
		// either way the attempt hung past the step timeout.
		return "attempt timed out"
	}
	return err.Error()
}
