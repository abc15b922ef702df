// Package app is what the projector decides: how a decoded order event
// becomes a write of the read model, one at a time (Single, projection.go)
// or grouped into one transaction (batcher.go), and which failures are
// worth retrying (permanent.Error). It owns the Writer interface the
// PostgreSQL adapter implements and the Projector interface the event
// consumer calls.
package app

import (
	"context"
	"encoding/json"

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

// Single projects every event in its own transaction: the simplest mode and
// the baseline the batched mode is measured against.
type Single struct{ W Writer }

// Project writes ev alone.
func (s Single) Project(ctx context.Context, ev Event) error {
	return s.W.Write(ctx, []Event{ev})
}
