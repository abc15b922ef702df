// Package step runs one business step of a workflow as a Temporal activity:
// retried by the server under a RetryPolicy, each attempt bounded by a
// start-to-close timeout (what a hang costs), the whole step by a
// schedule-to-close budget.
//
// Why activities and not local activities: an activity's scheduling is
// recorded in history before it runs, so its effect (a charge, a parcel, a
// published event) always belongs to the history the workflow finally has.
// A local activity runs inside a workflow task that may never complete, and
// a replay may take another path. Retries cost no history events, so an
// outage of minutes grows history only by one round per budget, and the
// Temporal UI shows the pending step with its attempt, last failure and next
// retry.
package step

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// ErrCancelled is returned when Hooks.Cancel asked to stop and the step did
// not complete: the attempt in flight had settled without success, and no
// further attempt was made.
var ErrCancelled = errors.New("step cancelled")

// Backoff is the coefficient between retry intervals.
const Backoff = 1.5

// Defaults applied to a zero StepRetry field.
const (
	DefaultBudget          = 10 * time.Second
	DefaultInitialInterval = 50 * time.Millisecond
	DefaultMaxInterval     = 300 * time.Millisecond
)

// Options describe one step.
type Options struct {
	Name domain.Step
	// Timeout is one attempt's StartToClose: a hanging attempt costs this.
	Timeout time.Duration
	Retry   contracts.StepRetry
	// MaxAttempts bounds the attempts of one round; 0: until the budget.
	// A step with a bound fails when it is reached instead of going on.
	MaxAttempts int
}

// Hooks let the workflow steer a running step.
type Hooks struct {
	// Cancel is evaluated whenever the workflow wakes while the step runs;
	// true requests cancellation. The attempt in flight is never cut short
	// (a charge or a dispatch either happened or not): it settles, and the
	// server makes no further attempt. So a success still wins.
	Cancel func() bool
	// OverBudget is called when a round used its whole budget without
	// success; the step is then scheduled again, so the workflow can say
	// what it is waiting for and still finish when the dependency returns.
	OverBudget func(err error)
}

// WithDefaults fills zero fields of r.
func WithDefaults(r contracts.StepRetry) contracts.StepRetry {
	if r.Budget <= 0 {
		r.Budget = DefaultBudget
	}
	if r.InitialInterval <= 0 {
		r.InitialInterval = DefaultInitialInterval
	}
	if r.MaxInterval < r.InitialInterval {
		r.MaxInterval = max(DefaultMaxInterval, r.InitialInterval)
	}
	return r
}

// ActivityOptions are the options of one round of a step.
func ActivityOptions(o Options) workflow.ActivityOptions {
	r := WithDefaults(o.Retry)
	return workflow.ActivityOptions{
		StartToCloseTimeout:    o.Timeout,
		ScheduleToCloseTimeout: r.Budget,
		WaitForCancellation:    true,
		Summary:                string(o.Name),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    r.InitialInterval,
			BackoffCoefficient: Backoff,
			MaximumInterval:    r.MaxInterval,
			MaximumAttempts:    int32(o.MaxAttempts),
		},
	}
}

// Run executes activity(arg(round)) until it succeeds, decoding its result
// into result (may be nil). round counts the step's rounds from 1, so an
// argument can tell a round from the one before (fresh fault draws, say). It returns ErrCancelled (wrapped) when Hooks.Cancel
// stopped it, the activity's error when it failed for good (non-retryable,
// or MaxAttempts reached), and the context's error when ctx ended.
func Run(ctx workflow.Context, o Options, h Hooks, activity any, arg func(round int) any, result any) error {
	ao := ActivityOptions(o)
	for round := 1; ; round++ {
		actx, cancel := workflow.WithCancel(ctx)
		f := workflow.ExecuteActivity(workflow.WithActivityOptions(actx, ao), activity, arg(round))
		requested := false
		for !f.IsReady() {
			if err := workflow.Await(ctx, func() bool {
				return f.IsReady() || (!requested && h.Cancel != nil && h.Cancel())
			}); err != nil {
				cancel()
				return fmt.Errorf("%s: %w", o.Name, err)
			}
			if !f.IsReady() {
				requested = true
				cancel()
			}
		}
		err := f.Get(ctx, result)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w", o.Name, ctx.Err())
		case requested:
			return fmt.Errorf("%s: %w: %s", o.Name, ErrCancelled, Message(err))
		case OverBudget(err) && o.MaxAttempts == 0:
			if h.OverBudget != nil {
				h.OverBudget(err)
			}
			continue
		default:
			return fmt.Errorf("%s: %w", o.Name, err)
		}
	}
}

// OverBudget tells whether err ended a round because its schedule-to-close
// budget ran out (rather than a non-retryable failure or MaxAttempts).
func OverBudget(err error) bool {
	var actErr *temporal.ActivityError
	if errors.As(err, &actErr) && actErr.RetryState() == enumspb.RETRY_STATE_TIMEOUT {
		return true
	}
	var toErr *temporal.TimeoutError
	return errors.As(err, &toErr) && toErr.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
}

// MaxAttemptsReached tells whether err ended a step after Options.MaxAttempts.
func MaxAttemptsReached(err error) bool {
	var actErr *temporal.ActivityError
	return errors.As(err, &actErr) && actErr.RetryState() == enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
}

// NonRetryable tells whether err is a failure the activity declared final,
// and returns it.
func NonRetryable(err error) (*temporal.ApplicationError, bool) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		return appErr, true
	}
	return nil, false
}

// Message is the short text of err kept in status: the innermost cause,
// without the SDK's activity wrapper.
func Message(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	var toErr *temporal.TimeoutError
	if errors.As(err, &toErr) {
		if toErr.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE {
			return "step budget exhausted"
		}
		return "attempt timed out"
	}
	var canErr *temporal.CanceledError
	if errors.As(err, &canErr) {
		return "cancelled"
	}
	return err.Error()
}

// Attempt is the number of the running attempt (1-based), for an activity
// to return so the workflow can show how many attempts a step took; 1
// outside an activity (a direct call in a test).
func Attempt(ctx context.Context) int {
	if !activity.IsActivity(ctx) {
		return 1
	}
	return int(activity.GetInfo(ctx).Attempt)
}
