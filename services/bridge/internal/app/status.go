package app

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/shared/contracts"
)

// Status answers live status requests from Temporal: the workflow's own
// `status` query for the business view, and Temporal's describe for what it
// sees (run state, pending activities with attempts and last failures).
type Status struct{ wf Workflows }

// NewStatus wires the status use case to Temporal through wf.
func NewStatus(wf Workflows) *Status { return &Status{wf: wf} }

// Get never fails: problems are reported in the reply, so the requester can
// fall back to the projection and say why. Describe and query run side by
// side; for a closed run the run's result answers instead of the query,
// which would need a worker polling the order's task queue to replay it.
func (s *Status) Get(ctx context.Context, orderID string) contracts.StatusReply {
	wfID := contracts.OrderWorkflowID(orderID)
	reply := contracts.StatusReply{Source: "temporal", WorkflowID: wfID}
	var (
		st       contracts.OrderStatus
		queryErr error
		queried  = make(chan struct{})
	)
	queryCtx, cancelQuery := context.WithCancel(ctx)
	defer cancelQuery()
	go func() { defer close(queried); st, queryErr = s.wf.QueryStatus(queryCtx, wfID) }()
	ex, exErr := s.wf.DescribeOrder(ctx, wfID)
	if exErr == nil && !ex.Running {
		if final, err := s.wf.FinalStatus(ctx, wfID, ex.RunID); err == nil {
			cancelQuery()
			<-queried
			st, queryErr = final, nil
		}
	}
	<-queried
	if errors.Is(exErr, ErrNotFound) || errors.Is(queryErr, ErrNotFound) {
		return contracts.StatusReply{Source: "temporal", WorkflowID: wfID, NotFound: true, Error: ReasonUnknownOrder}
	}
	if queryErr == nil {
		reply.Status = &st
		reply.Owner, reply.OwnerKnown = st.Owner, true
	}
	if exErr == nil {
		reply.RunID, reply.WorkflowStatus, reply.Pending = ex.RunID, ex.Status, ex.Pending
		// The memo holds the owner from the start, even while the query
		// cannot be answered (no worker, a task in flight).
		reply.Owner, reply.OwnerKnown = ex.Owner, true
	}
	if err := errors.Join(exErr, queryErr); err != nil {
		reply.Error = err.Error()
	}
	return reply
}
