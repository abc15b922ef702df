// Package adapters implements the interfaces app owns on the outside world:
// app.Workflows on the Temporal client (temporal.go), with the start
// options, memo, history and error mapping. Named for its role, it no
// longer shadows the SDK's temporal package.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/services/bridge/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/permanent"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// Workflows implements app.Workflows with a Temporal client.
type Workflows struct {
	c         client.Client
	taskQueue string
	dc        converter.DataConverter
}

var _ app.Workflows = (*Workflows)(nil)

// NewWorkflows adapts c; orders are started on taskQueue. dc must be the data
// converter c was dialled with (it decodes memos and history the client
// does not decode itself); nil means the SDK default.
func NewWorkflows(c client.Client, taskQueue string, dc converter.DataConverter) *Workflows {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	return &Workflows{c: c, taskQueue: taskQueue, dc: dc}
}

// StartOrder starts OrderWorkflow. The ID policies make Temporal, not the
// bridge, the judge of "this order exists": a second start, even long after
// JetStream's deduplication window, gets ErrAlreadyStarted.
func (w *Workflows) StartOrder(ctx context.Context, in contracts.OrderInput) (string, error) {
	run, err := w.c.ExecuteWorkflow(ctx, temporalx.OrderStartOptions(in, w.taskQueue), contracts.WorkflowOrder, in)
	if err != nil {
		return "", mapErr(err)
	}
	return run.GetRunID(), nil
}

// DescribeOrder returns the latest run's state, memo and pending work.
func (w *Workflows) DescribeOrder(ctx context.Context, workflowID string) (app.Execution, error) {
	desc, err := w.c.DescribeWorkflow(ctx, workflowID, "")
	if err != nil {
		return app.Execution{}, mapErr(err)
	}
	resp := desc.RawResponse
	info := resp.GetWorkflowExecutionInfo()
	ex := app.Execution{
		RunID:   info.GetExecution().GetRunId(),
		Status:  statusName(info.GetStatus()),
		Running: info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
	}
	if p, ok := info.GetMemo().GetFields()[contracts.MemoPaymentID]; ok {
		if err := w.dc.FromPayload(p, &ex.PaymentID); err != nil {
			return app.Execution{}, fmt.Errorf("decode memo %s of %s: %w", contracts.MemoPaymentID, workflowID, err)
		}
	}
	if p, ok := info.GetMemo().GetFields()[contracts.MemoOwner]; ok {
		if err := w.dc.FromPayload(p, &ex.Owner); err != nil {
			return app.Execution{}, fmt.Errorf("decode memo %s of %s: %w", contracts.MemoOwner, workflowID, err)
		}
	}
	for _, a := range resp.GetPendingActivities() {
		pa := contracts.PendingActivity{
			Type:        a.GetActivityType().GetName(),
			Attempt:     a.GetAttempt(),
			State:       trimEnum(enumspb.PendingActivityState_name[int32(a.GetState())], "PENDING_ACTIVITY_STATE_"),
			LastFailure: a.GetLastFailure().GetMessage(),
		}
		if t := a.GetLastStartedTime(); t != nil {
			ts := t.AsTime()
			pa.LastStarted = &ts
		}
		ex.Pending = append(ex.Pending, pa)
	}
	for _, ch := range resp.GetPendingChildren() {
		ex.Pending = append(ex.Pending, contracts.PendingActivity{
			Type:  "child:" + ch.GetWorkflowTypeName(),
			State: "RUNNING",
		})
	}
	return ex, nil
}

// StartCommandID reads the run's first history event for the OrderInput it
// was started with.
func (w *Workflows) StartCommandID(ctx context.Context, workflowID, runID string) (string, error) {
	it := w.c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return "", fmt.Errorf("history of %s/%s is empty", workflowID, runID)
	}
	ev, err := it.Next()
	if err != nil {
		return "", mapErr(err)
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return "", fmt.Errorf("first event of %s/%s is %s, not a start", workflowID, runID, ev.GetEventType())
	}
	var in contracts.OrderInput
	if err := w.dc.FromPayloads(attrs.GetInput(), &in); err != nil {
		return "", fmt.Errorf("decode input of %s/%s: %w", workflowID, runID, err)
	}
	return in.CommandID, nil
}

// SignalOrder signals the latest run.
func (w *Workflows) SignalOrder(ctx context.Context, workflowID, signal string, p contracts.SignalPayload) error {
	return mapErr(w.c.SignalWorkflow(ctx, workflowID, "", signal, p))
}

// QueryStatus runs the workflow's status query on the latest run.
func (w *Workflows) QueryStatus(ctx context.Context, workflowID string) (contracts.OrderStatus, error) {
	v, err := w.c.QueryWorkflow(ctx, workflowID, "", contracts.QueryStatus)
	if err != nil {
		return contracts.OrderStatus{}, mapErr(err)
	}
	var st contracts.OrderStatus
	if err := v.Get(&st); err != nil {
		return contracts.OrderStatus{}, fmt.Errorf("decode status of %s: %w", workflowID, err)
	}
	return st, nil
}

// FinalStatus reads a closed run's result: the status it completed with, or
// for a failed order the status carried in the OrderFailed error's details.
func (w *Workflows) FinalStatus(ctx context.Context, workflowID, runID string) (contracts.OrderStatus, error) {
	var st contracts.OrderStatus
	err := w.c.GetWorkflow(ctx, workflowID, runID).Get(ctx, &st)
	if err == nil {
		return st, nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == contracts.ErrTypeOrderFailed && appErr.HasDetails() {
		if derr := appErr.Details(&st); derr != nil {
			return contracts.OrderStatus{}, fmt.Errorf("decode final status of %s: %w", workflowID, derr)
		}
		return st, nil
	}
	return contracts.OrderStatus{}, mapErr(err)
}

// mapErr translates Temporal's service errors into app's vocabulary.
// Anything not known to be final is left transient: retrying is the safe
// default while the server is unreachable or overloaded.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var (
		started     *serviceerror.WorkflowExecutionAlreadyStarted
		notFound    *serviceerror.NotFound
		invalid     *serviceerror.InvalidArgument
		nsNotFound  *serviceerror.NamespaceNotFound
		denied      *serviceerror.PermissionDenied
		unimpl      *serviceerror.Unimplemented
		queryFailed *serviceerror.QueryFailed
	)
	switch {
	case errors.As(err, &started):
		return fmt.Errorf("%w: %w", app.ErrAlreadyStarted, err)
	case errors.As(err, &notFound):
		return fmt.Errorf("%w: %w", app.ErrNotFound, err)
	case errors.As(err, &invalid), errors.As(err, &nsNotFound), errors.As(err, &denied),
		errors.As(err, &unimpl), errors.As(err, &queryFailed):
		return &permanent.Error{Err: err}
	}
	return err
}

func statusName(s enumspb.WorkflowExecutionStatus) string {
	return trimEnum(enumspb.WorkflowExecutionStatus_name[int32(s)], "WORKFLOW_EXECUTION_STATUS_")
}

// trimEnum turns a proto enum name into the short upper-case form the
// contract documents (RUNNING, COMPLETED, STARTED...); the enums' String()
// is CamelCase since API v1.2x.
func trimEnum(s, prefix string) string { return strings.TrimPrefix(s, prefix) }
