package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/orderflow/orderflow/shared/permanent"
)

var fast = Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}

func TestRetryInPlaceRetriesTransientFailuresUntilSuccess(t *testing.T) {
	var retried []int
	got, err := RetryInPlace(context.Background(), "op", fast, time.Second,
		func(_ context.Context, attempt int) (int, error) {
			if attempt < 3 {
				return 0, errors.New("unreachable")
			}
			return attempt, nil
		},
		func(_ error, attempt int, _ time.Duration) { retried = append(retried, attempt) })
	if err != nil || got != 3 {
		t.Fatalf("got %d, %v; want 3, nil", got, err)
	}
	if len(retried) != 2 || retried[0] != 1 || retried[1] != 2 {
		t.Fatalf("retried after attempts %v, want [1 2]", retried)
	}
}

// A refusal comes back as it is, after one try: the consumer must still
// recognise it as permanent to dead-letter the command.
func TestRetryInPlaceHandsBackAPermanentErrorUntouched(t *testing.T) {
	refused := &permanent.Error{Err: errors.New("invalid argument")}
	tries := 0
	_, err := RetryInPlace(context.Background(), "op", fast, time.Second,
		func(context.Context, int) (int, error) { tries++; return 0, backoff.Permanent(refused) },
		func(error, int, time.Duration) { t.Error("a permanent error was retried") })
	if tries != 1 || err != refused || !permanent.Is(err) {
		t.Fatalf("tries %d, err %v (permanent %t); want one try and the refusal itself", tries, err, permanent.Is(err))
	}
}

func TestRetryInPlaceStopsWhenCtxEndsAndNamesTheLastFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	down := errors.New("temporal unreachable")
	_, err := RetryInPlace(ctx, "apply start to order-1", fast, time.Second,
		func(callCtx context.Context, attempt int) (int, error) {
			if attempt == 2 {
				cancel()
				// The try itself is not torn by shutdown.
				if callCtx.Err() != nil {
					t.Error("the call's context ended with the caller's")
				}
			}
			return 0, down
		},
		func(error, int, time.Duration) {})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, down) {
		t.Fatalf("err = %v; want it to wrap context.Canceled and the last failure", err)
	}
	if want := "apply start to order-1: context canceled (last error: temporal unreachable)"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}
