// Package app is what the bridge decides: what each order command means for
// the order's workflow (commands.go) and what it answers about an order's
// live status (status.go). It knows Temporal only through the Workflows
// interface it owns (workflows.go) and sets the pace of in-place retries
// (retry.go).
package app

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/shared/contracts"
)

// Workflows is the part of Temporal the bridge uses. Every method returns
// ErrAlreadyStarted / ErrNotFound for those outcomes, a *permanent.Error when
// Temporal refuses the call for good, and any other error when the call may
// succeed later (Temporal unreachable, timeouts).
type Workflows interface {
	StartOrder(ctx context.Context, in contracts.OrderInput) (runID string, err error)
	DescribeOrder(ctx context.Context, workflowID string) (Execution, error)
	// StartCommandID is the command ID the run was started with, so a
	// redelivered start can be recognised as the one that created the run.
	StartCommandID(ctx context.Context, workflowID, runID string) (string, error)
	SignalOrder(ctx context.Context, workflowID, signal string, p contracts.SignalPayload) error
	QueryStatus(ctx context.Context, workflowID string) (contracts.OrderStatus, error)
	// FinalStatus is the status a closed run ended with, read from its
	// result: no worker has to replay the history to answer it.
	FinalStatus(ctx context.Context, workflowID, runID string) (contracts.OrderStatus, error)
}

// Execution is Temporal's view of the latest run of an order's workflow.
type Execution struct {
	RunID     string
	Status    string // RUNNING, COMPLETED, ...
	Running   bool
	PaymentID string // from the memo
	Owner     string // from the memo; empty for orders started without one
	Pending   []contracts.PendingActivity
}

var (
	// ErrAlreadyStarted means a workflow with the order's ID exists or
	// existed and the ID may not be reused.
	ErrAlreadyStarted = errors.New("workflow already started")
	// ErrNotFound means Temporal has no workflow with that ID.
	ErrNotFound = errors.New("workflow not found")
)
