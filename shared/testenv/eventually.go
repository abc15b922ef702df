package testenv

import (
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
