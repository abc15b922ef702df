package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
)

// CommandBus stores commands durably and reports the bridge's outcomes.
type CommandBus interface {
	// Publish returns once the broker acknowledged the command; duplicate
	// is true when it already held a command with the same ID.
	Publish(ctx context.Context, cmd contracts.Command) (duplicate bool, err error)
	// WatchResults starts listening for outcomes of orderID's commands. It
	// must be called before Publish so a fast outcome cannot be missed.
	WatchResults(ctx context.Context, orderID string) (ResultWatch, error)
}

// ResultWatch waits for one command's outcome.
type ResultWatch interface {
	// Await returns the outcome of commandID. With history it also looks
	// at outcomes published before the watch began, which a duplicate
	// command needs: its outcome was settled by the first copy.
	Await(ctx context.Context, commandID string, history bool) (contracts.CommandResult, error)
	Close()
}

// Owners names an order's owner; see Queries.OrderOwner.
type Owners interface {
	OrderOwner(ctx context.Context, orderID string) (owner string, known bool, err error)
}

// Commands submits commands for orders.
type Commands struct {
	bus    CommandBus
	owners Owners
	log    *slog.Logger
}

// NewCommands wires the command side to its bus and the owner lookup.
func NewCommands(bus CommandBus, owners Owners, log *slog.Logger) *Commands {
	return &Commands{bus: bus, owners: owners, log: log}
}

// checkOwner refuses, before anything is published, a command of one client
// for another client's order, with ErrNotFound as if the order did not
// exist. A start of an unknown order goes ahead (it creates the order); a
// signal needs its order to be known as the sender's, so an order that does
// not exist yet and one that belongs to someone else look the same. The
// bridge checks the owner again, which closes the window between this
// lookup and the command being applied.
func (s *Commands) checkOwner(ctx context.Context, cmd contracts.Command) error {
	if cmd.Owner == "" {
		return nil
	}
	owner, known, err := s.owners.OrderOwner(ctx, cmd.OrderID)
	switch {
	case known && owner == cmd.Owner:
		return nil
	case known, cmd.Kind != contracts.CommandStart && errors.Is(err, ErrNotFound):
		return fmt.Errorf("order %s: %w", cmd.OrderID, ErrNotFound)
	case cmd.Kind == contracts.CommandStart:
		// Unknown, or the live side is down: the bridge refuses a start
		// for an order ID someone else holds.
		return nil
	default:
		return err
	}
}

// Submit validates cmd, stores it in the broker and, when wait is
// positive, waits up to wait for the bridge's outcome. A rejection is
// returned as *RejectedError; running out of wait is not an error (the
// command is stored and will be applied), it just leaves Result nil.
func (s *Commands) Submit(ctx context.Context, cmd contracts.Command, wait time.Duration) (Submission, error) {
	if err := cmd.Validate(); err != nil {
		return Submission{}, err
	}
	if err := s.checkOwner(ctx, cmd); err != nil {
		return Submission{}, err
	}
	log := s.log.With(logging.KeyOrderID, cmd.OrderID, logging.KeyCommandID, cmd.CommandID, "kind", cmd.Kind)

	var watch ResultWatch
	if wait > 0 {
		w, err := s.bus.WatchResults(ctx, cmd.OrderID)
		if err != nil {
			return Submission{}, unavailable("watch command results", err)
		}
		defer w.Close()
		watch = w
	}

	dup, err := s.bus.Publish(ctx, cmd)
	if err != nil {
		return Submission{}, unavailable("publish command", err)
	}
	sub := Submission{Command: cmd, Duplicate: dup}
	log.InfoContext(ctx, "command stored", "duplicate", dup)
	if watch == nil {
		return sub, nil
	}

	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	res, err := watch.Await(wctx, cmd.CommandID, dup)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		log.InfoContext(ctx, "no command outcome within wait", "wait", wait)
		return sub, nil
	case err != nil:
		return sub, fmt.Errorf("await outcome of command %s: %w", cmd.CommandID, err)
	}
	sub.Result = &res
	log.InfoContext(ctx, "command outcome", logging.KeyWorkflowID, res.WorkflowID, "outcome", res.Outcome, "reason", res.Reason)
	if res.Outcome == contracts.OutcomeRejected {
		return sub, &RejectedError{Result: res}
	}
	return sub, nil
}
