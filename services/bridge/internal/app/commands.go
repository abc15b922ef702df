package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/permanent"
)

// Rejection reasons a sender sees in CommandResult.Reason.
const (
	ReasonDifferentPayment = "order already exists with a different payment_id"
	ReasonFinished         = "order already finished"
	ReasonUnknownOrder     = "unknown order"
	// ReasonOrderIDTaken refuses a start whose order ID another client
	// owns, without saying whose it is.
	ReasonOrderIDTaken = "order ID is not available"
)

// CommandOptions tune Commands.
type CommandOptions struct {
	CallTimeout   time.Duration // one Temporal call
	RetryMin      time.Duration // first backoff
	RetryMax      time.Duration // backoff cap
	NotFoundGrace time.Duration // how long a signal waits for its workflow to appear
}

// Commands applies order commands to Temporal. Apply retries transient
// failures in place, so the caller never reorders an order's commands.
type Commands struct {
	wf   Workflows
	opts CommandOptions
	log  *slog.Logger
}

// NewCommands wires the command use case to Temporal through wf.
func NewCommands(wf Workflows, opts CommandOptions, log *slog.Logger) *Commands {
	return &Commands{wf: wf, opts: opts, log: log}
}

// ErrWorkflowNotYet means a signal's workflow does not exist yet and the
// not-found grace has not run out: the caller should let the order's earlier
// commands (its start, possibly redelivered out of order) go first and try
// again shortly.
var ErrWorkflowNotYet = errors.New("workflow does not exist yet")

// Apply settles cmd: it returns the outcome to publish, ErrWorkflowNotYet
// (see there), a *permanent.Error when the command can never be applied, or
// ctx's error when the bridge shuts down before Temporal answered.
// firstTry is when the command was first tried; the not-found grace runs
// from it. Transient failures are retried in place with exponential backoff
// for as long as ctx lives, so the caller never reorders an order's
// commands; each call runs to its own timeout even during shutdown, so an
// in-flight call is finished, not torn.
func (c *Commands) Apply(ctx context.Context, cmd contracts.Command, acceptedAt, firstTry time.Time) (contracts.CommandResult, error) {
	wfID := contracts.OrderWorkflowID(cmd.OrderID)
	log := c.log.With(logging.KeyOrderID, cmd.OrderID, logging.KeyWorkflowID, wfID,
		logging.KeyCommandID, cmd.CommandID, "kind", cmd.Kind)
	what := fmt.Sprintf("apply %s to %s", cmd.Kind, wfID)
	return RetryInPlace(ctx, what, Backoff{Min: c.opts.RetryMin, Max: c.opts.RetryMax}, c.opts.CallTimeout,
		func(callCtx context.Context, attempt int) (contracts.CommandResult, error) {
			res, err := c.once(callCtx, cmd, wfID, acceptedAt)
			switch {
			case err == nil:
			case errors.Is(err, ErrWorkflowNotYet) && time.Since(firstTry) >= c.opts.NotFoundGrace:
				res, err = contracts.CommandResult{Outcome: contracts.OutcomeRejected, Reason: ReasonUnknownOrder}, nil
			case errors.Is(err, ErrWorkflowNotYet):
				log.DebugContext(ctx, "workflow not found yet; waiting for its start", logging.KeyAttempt, attempt)
				return contracts.CommandResult{}, backoff.Permanent(err)
			case permanent.Is(err):
				log.ErrorContext(ctx, "temporal refused command", logging.Err(err), logging.KeyAttempt, attempt)
				return contracts.CommandResult{}, backoff.Permanent(err)
			default:
				return contracts.CommandResult{}, err
			}
			res.CommandID, res.OrderID, res.Kind, res.WorkflowID = cmd.CommandID, cmd.OrderID, cmd.Kind, wfID
			res.At = time.Now().UTC()
			log.InfoContext(ctx, "command settled", "outcome", res.Outcome, "reason", res.Reason, logging.KeyAttempt, attempt)
			return res, nil
		},
		func(err error, attempt int, next time.Duration) {
			log.WarnContext(ctx, "temporal call failed; retrying in place", logging.Err(err), logging.KeyAttempt, attempt, "backoff", next)
		})
}

func (c *Commands) once(ctx context.Context, cmd contracts.Command, wfID string, acceptedAt time.Time) (contracts.CommandResult, error) {
	if cmd.Kind == contracts.CommandStart {
		return c.start(ctx, cmd, wfID, acceptedAt)
	}
	return c.signal(ctx, cmd, wfID)
}

func (c *Commands) start(ctx context.Context, cmd contracts.Command, wfID string, acceptedAt time.Time) (contracts.CommandResult, error) {
	in := contracts.OrderInput{
		OrderID:      cmd.OrderID,
		PaymentID:    cmd.PaymentID,
		Items:        cmd.Items,
		ManualReview: cmd.ManualReview,
		CommandID:    cmd.CommandID,
		AcceptedAt:   acceptedAt.UTC(),
		Owner:        cmd.Owner,
	}
	if in.Items == nil {
		in.Items = domain.DefaultItems()
	}
	if cmd.Address != nil {
		in.Address = *cmd.Address
	} else {
		in.Address = domain.DefaultAddress()
	}
	runID, err := c.wf.StartOrder(ctx, in)
	switch {
	case err == nil:
		return contracts.CommandResult{Outcome: contracts.OutcomeStarted, RunID: runID}, nil
	case !errors.Is(err, ErrAlreadyStarted):
		return contracts.CommandResult{}, fmt.Errorf("start %s: %w", wfID, err)
	}
	ex, err := c.wf.DescribeOrder(ctx, wfID)
	if err != nil {
		// Not found right after "already started" is a race with retention;
		// the next attempt sorts it out.
		return contracts.CommandResult{}, fmt.Errorf("describe existing %s: %w", wfID, err)
	}
	if ex.Owner != cmd.Owner {
		return contracts.CommandResult{Outcome: contracts.OutcomeRejected, Reason: ReasonOrderIDTaken}, nil
	}
	if ex.PaymentID != cmd.PaymentID {
		return contracts.CommandResult{Outcome: contracts.OutcomeRejected, Reason: ReasonDifferentPayment, RunID: ex.RunID}, nil
	}
	startedBy, err := c.wf.StartCommandID(ctx, wfID, ex.RunID)
	if err != nil {
		return contracts.CommandResult{}, fmt.Errorf("read start of %s: %w", wfID, err)
	}
	switch {
	case startedBy == cmd.CommandID:
		// A redelivery of the command that created the run (the bridge died
		// before acknowledging it): it did start the order.
		return contracts.CommandResult{Outcome: contracts.OutcomeStarted, RunID: ex.RunID}, nil
	case ex.Running:
		return contracts.CommandResult{Outcome: contracts.OutcomeDuplicate, RunID: ex.RunID}, nil
	default:
		return contracts.CommandResult{Outcome: contracts.OutcomeRejected, Reason: ReasonFinished, RunID: ex.RunID}, nil
	}
}

var signalNames = map[contracts.CommandKind]string{
	contracts.CommandCancel:        contracts.SignalCancel,
	contracts.CommandUpdateAddress: contracts.SignalUpdateAddress,
	contracts.CommandApprove:       contracts.SignalApprove,
}

func (c *Commands) signal(ctx context.Context, cmd contracts.Command, wfID string) (contracts.CommandResult, error) {
	name, ok := signalNames[cmd.Kind]
	if !ok {
		return contracts.CommandResult{}, &permanent.Error{Err: fmt.Errorf("no signal for command kind %q", cmd.Kind)}
	}
	if cmd.Owner != "" {
		// An owned command may only touch its owner's order; another
		// client's order looks exactly like one that does not exist.
		ex, err := c.describe(ctx, wfID)
		switch {
		case err != nil:
			return contracts.CommandResult{}, err
		case ex.Owner != cmd.Owner:
			return contracts.CommandResult{Outcome: contracts.OutcomeRejected, Reason: ReasonUnknownOrder}, nil
		}
	}
	p := contracts.SignalPayload{CommandID: cmd.CommandID, Address: cmd.Address, Reason: cmd.Reason}
	err := c.wf.SignalOrder(ctx, wfID, name, p)
	switch {
	case err == nil:
		// Whether the signal comes too late is the workflow's call; it records
		// the verdict in its status and events.
		return contracts.CommandResult{Outcome: contracts.OutcomeApplied}, nil
	case !errors.Is(err, ErrNotFound):
		return contracts.CommandResult{}, fmt.Errorf("signal %s to %s: %w", name, wfID, err)
	}
	// Temporal says "not found" both for a workflow that never existed and
	// for one that has completed; describe tells them apart.
	ex, err := c.describe(ctx, wfID)
	switch {
	case err != nil:
		return contracts.CommandResult{}, err
	case !ex.Running:
		return contracts.CommandResult{Outcome: contracts.OutcomeRejected, Reason: ReasonFinished, RunID: ex.RunID}, nil
	default:
		return contracts.CommandResult{}, fmt.Errorf("signal %s to %s: not found, yet described as running", name, wfID)
	}
}

// describe is the order's workflow execution: ErrWorkflowNotYet when there
// is none, as the start may still be on its way from another path.
func (c *Commands) describe(ctx context.Context, wfID string) (Execution, error) {
	ex, err := c.wf.DescribeOrder(ctx, wfID)
	switch {
	case errors.Is(err, ErrNotFound):
		return ex, ErrWorkflowNotYet
	case err != nil:
		return ex, fmt.Errorf("describe %s: %w", wfID, err)
	}
	return ex, nil
}
