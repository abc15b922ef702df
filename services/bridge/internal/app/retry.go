package app

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Backoff paces in-place retries while Temporal or NATS is unreachable:
// exponential from Min, doubling up to Max, each pause jittered so bridges
// that lost the same server do not come back at it in lockstep.
type Backoff struct{ Min, Max time.Duration }

// jitter spreads each pause by up to a fifth either way.
const jitter = 0.2

// New returns a fresh exponential backoff.
func (b Backoff) New() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     b.Min,
		MaxInterval:         b.Max,
		Multiplier:          2,
		RandomizationFactor: jitter,
	}
}

// RetryInPlace calls try until it succeeds, gives up or ctx ends. Each
// call runs to timeout even during shutdown, so an in-flight call is
// finished, not torn. try gives up by returning backoff.Permanent(err):
// RetryInPlace then returns err as it is, so a *permanent.Error inside
// stays the one marker of "never retry". retrying is told of
// every failure that is retried. When ctx ends first the error names what,
// ctx's error and the last failure.
func RetryInPlace[T any](ctx context.Context, what string, b Backoff, timeout time.Duration,
	try func(ctx context.Context, attempt int) (T, error),
	retrying func(err error, attempt int, next time.Duration),
) (T, error) {
	var (
		attempt int
		last    error
	)
	res, err := backoff.Retry(ctx, func() (T, error) {
		attempt++
		callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		res, err := try(callCtx, attempt)
		last = err
		return res, err
	},
		backoff.WithBackOff(b.New()),
		backoff.WithMaxElapsedTime(0), // for as long as ctx lives
		backoff.WithNotify(func(err error, next time.Duration) { retrying(err, attempt, next) }),
	)
	if err != nil && ctx.Err() != nil && err == context.Cause(ctx) {
		var zero T
		return zero, fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), last)
	}
	return res, err
}
