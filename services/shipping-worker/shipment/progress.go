package shipment

import (
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
)

// report queues the cumulative progress for the parent. A command leaves
// the worker only when the workflow task completes, so the main flow calls
// flush after a transition the parent must see before the child goes on.
func (s *shipping) report() {
	s.rep.Seq++
	s.reports = append(s.reports, workflow.SignalExternalWorkflow(s.ctx, s.in.ParentWorkflowID, "", contracts.SignalShippingProgress, s.rep))
}

// flush waits until every queued report has reached the parent (one server
// round trip), so none is late and none is lost when the child ends.
func (s *shipping) flush(ctx workflow.Context) {
	for _, f := range s.reports {
		if err := f.Get(ctx, nil); err != nil {
			s.log.Warn("progress report to parent not delivered", logging.Err(err))
		}
	}
	s.reports = nil
}
