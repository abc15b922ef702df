// Package app is what the projector decides: how a decoded order event
// becomes a write of the read model, one at a time (Single, projection.go)
// or grouped into one transaction (batcher.go), and which failures are
// worth retrying (PermanentError). It owns the Writer interface the
// PostgreSQL adapter implements and the Projector interface the event
// consumer calls.
package app

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/orderflow/orderflow/shared/contracts"
)

// Event is a decoded order event plus its snapshot exactly as it travelled,
// so the stored snapshot keeps fields this build of contracts does not know.
type Event struct {
	contracts.Event
	Snapshot json.RawMessage
}

// Writer stores events atomically: either every event of the call is
// projected or none is. Implementations must be idempotent (replays happen)
// and order-insensitive (the newest seq per order wins).
type Writer interface {
	Write(ctx context.Context, events []Event) error
}

// Projector is what the message handler calls for each event.
type Projector interface {
	Project(ctx context.Context, ev Event) error
}

// PermanentError marks a failure that repeats on every delivery of the same
// message (malformed event, data the database refuses). Such a message is
// dead-lettered instead of retried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError (nil stays nil).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether retrying err is pointless.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Single projects every event in its own transaction: the simplest mode and
// the baseline the batched mode is measured against.
type Single struct{ W Writer }

// Project writes ev alone.
func (s Single) Project(ctx context.Context, ev Event) error {
	return s.W.Write(ctx, []Event{ev})
}
