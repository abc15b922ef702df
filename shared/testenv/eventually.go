package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Eventually polls cond until it reports true or timeout passes, then fails
// the test with what cond said last (the state it saw, the error it got).
// It polls every 10 ms at first, then every 50 ms: often enough that a
// benchmark's end is seen at once, seldom enough that a check costing a
// query does not load a shared machine. Call it from the test's goroutine:
// on timeout it calls t.Fatalf.
func Eventually(t testing.TB, timeout time.Duration, cond func() (ok bool, last string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := 10 * time.Millisecond
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", timeout, last)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// Retry calls f until it returns nil or ctx ends, as a client retries
// while a server recovers. Each call has a context of its own that ends
// after perTry: a call to a server that is down may otherwise wait for the
// whole of ctx. It returns nil, or the last error with the first and ctx's.
func Retry(ctx context.Context, perTry time.Duration, f func(ctx context.Context) error) error {
	var first error
	for {
		tctx, cancel := context.WithTimeout(ctx, perTry)
		err := f(tctx)
		cancel()
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (first error: %v; %v)", err, first, ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
