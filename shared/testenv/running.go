package testenv

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Running is a service's Run going in a goroutine of the test: the
// in-process twin of Process, stopped by ending its context.
type Running struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error // what run returned, once done is closed
}

// ErrStillRunning is returned by Stop when run did not return in time.
var ErrStillRunning = errors.New("still running after its context ended")

// Go runs run in a goroutine. Its context ends with Stop, or when the test
// ends at the latest.
func Go(t testing.TB, run func(ctx context.Context) error) *Running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = run(ctx)
		close(r.done)
	}()
	t.Cleanup(cancel)
	return r
}

// Done is closed when run has returned.
func (r *Running) Done() <-chan struct{} { return r.done }

// Err is what run returned, once Done is closed.
func (r *Running) Err() error {
	select {
	case <-r.done:
		return r.err
	default:
		return nil
	}
}

// Stop ends run's context and waits up to timeout for it to return. It
// returns what run returned, or ErrStillRunning.
func (r *Running) Stop(timeout time.Duration) error {
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(timeout):
		return fmt.Errorf("%w (waited %s)", ErrStillRunning, timeout)
	}
}
