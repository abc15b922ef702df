package main

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/shared/contracts"
)

// price is what one order cost Temporal, read from its durable history: the
// parent's and every shipping child's.
type price struct {
	Events  int // history events, parent plus children
	Actions int // estimated billable actions (see actions)
}

// history returns every event of a workflow run.
func history(ctx context.Context, tc client.Client, workflowID, runID string) ([]*historypb.HistoryEvent, error) {
	var out []*historypb.HistoryEvent
	it := tc.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// orderPrice reads the order's parent history and its children's.
func orderPrice(ctx context.Context, tc client.Client, orderID string) (price, []*historypb.HistoryEvent, error) {
	parent, err := history(ctx, tc, contracts.OrderWorkflowID(orderID), "")
	if err != nil {
		return price{}, nil, err
	}
	p := price{Events: len(parent), Actions: actions(parent, true)}
	for _, e := range parent {
		a := e.GetChildWorkflowExecutionStartedEventAttributes()
		if a == nil {
			continue
		}
		child, err := history(ctx, tc, a.GetWorkflowExecution().GetWorkflowId(), a.GetWorkflowExecution().GetRunId())
		if err != nil {
			return price{}, nil, err
		}
		p.Events += len(child)
		p.Actions += actions(child, false)
	}
	return p, parent, nil
}

// actions estimates Temporal Cloud billable actions from a history, the way
// https://docs.temporal.io/cloud/actions counts them:
//   - workflow started: 1 (a child's start is counted once, by the parent's
//     StartChildWorkflowExecutionInitiated, not again in the child);
//   - activity started or retried: 1 per attempt (ActivityTaskStarted
//     records the last attempt number; retries leave no other event);
//   - signal: 1 per WorkflowExecutionSignaled (from a client or the child;
//     the sender's SignalExternal… event is not counted again);
//   - local activities: 1 per workflow task that recorded any (their
//     LocalActivity markers share the task's WorkflowTaskCompleted ID);
//   - timer started, search attribute upsert, memo/properties upsert, other
//     markers (GetVersion, side effects), workflow update accepted, external
//     cancel request: 1 each (Cloud may not bill GetVersion markers: at most
//     one or two per order here).
//
// Queries and heartbeats are billed too but leave no history event: not
// counted (the status sampler's queries are not part of an order's price).
func actions(h []*historypb.HistoryEvent, parent bool) int {
	n := 0
	laTasks := map[int64]bool{}
	for _, e := range h {
		if m := e.GetMarkerRecordedEventAttributes(); m != nil && m.GetMarkerName() == "LocalActivity" {
			if !laTasks[m.GetWorkflowTaskCompletedEventId()] {
				laTasks[m.GetWorkflowTaskCompletedEventId()] = true
				n++
			}
			continue
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			if parent {
				n++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			n += max(1, int(e.GetActivityTaskStartedEventAttributes().GetAttempt()))
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
			enumspb.EVENT_TYPE_TIMER_STARTED,
			enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
			enumspb.EVENT_TYPE_MARKER_RECORDED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
			enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			n++
		}
	}
	return n
}
