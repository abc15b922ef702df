package order

import (
	"encoding/json"
	"maps"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
	stepx "github.com/orderflow/orderflow/shared/step"
)

// maxEventBatch bounds the events one publish activity carries.
const maxEventBatch = 64

const waitingPublish = "publishing events to NATS: "

// publishBudget is one publish round's ScheduleToClose: past it the order
// says it waits for NATS, and publishes again.
const publishBudget = 30 * time.Second

// outbox holds events not yet stored by JetStream, in seq order.
type outbox struct {
	seq     int64
	pending []contracts.Event
	stuck   bool // a publish round ran out: status says so until one succeeds
}

func (b *outbox) empty() bool { return len(b.pending) == 0 }

// emit queues one event with the next sequence number and a copy of the
// snapshot. Only this workflow assigns seq, so it is gap-free per order.
func (o *order) emit(t contracts.EventType, data any) {
	now := workflow.Now(o.ctx)
	o.st.UpdatedAt = now
	o.outbox.seq++
	e := contracts.Event{
		ID:            contracts.EventID(o.in.OrderID, o.outbox.seq),
		SchemaVersion: contracts.EventSchemaVersion,
		Type:          t,
		OrderID:       o.in.OrderID,
		Seq:           o.outbox.seq,
		Time:          now,
		WorkflowID:    o.st.WorkflowID,
		Order:         snapshot(o.st),
	}
	if data != nil {
		// encoding/json sorts map keys and has no other source of
		// nondeterminism for plain data: workflowcheck flags it only
		// because its reflection cache may allocate.
		b, err := json.Marshal(data) //workflowcheck:ignore
		if err == nil {
			e.Data = b
		}
	}
	o.outbox.pending = append(o.outbox.pending, e)
}

// snapshot deep-copies the status, which keeps changing after the event is
// queued.
func snapshot(s contracts.OrderStatus) contracts.OrderStatus {
	c := s
	c.Attempts = maps.Clone(s.Attempts)
	c.RecentErrors = append([]contracts.StepError{}, s.RecentErrors...)
	c.Items = append([]domain.Item(nil), s.Items...)
	c.Signals = append([]contracts.SignalRecord(nil), s.Signals...)
	if s.Shipping != nil {
		sh := *s.Shipping
		c.Shipping = &sh
	}
	return c
}

// publishEvents publishes queued events in batches, in seq order, each
// batch one activity: the events are in history (the activity's input)
// before anything reaches NATS, so a workflow task that never completes
// cannot leave an event its final history lacks. Business steps never wait
// for the broker; the workflow completes only once the outbox is empty. A
// NATS outage costs one round per publishBudget, never a lost event.
func (o *order) publishEvents(ctx workflow.Context) {
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    5 * time.Second,
		ScheduleToCloseTimeout: publishBudget,
		Summary:                "publish events",
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    100 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Second,
		},
	})
	for {
		if err := workflow.Await(ctx, func() bool { return !o.outbox.empty() }); err != nil {
			return
		}
		batch := o.outbox.pending[:min(len(o.outbox.pending), maxEventBatch)]
		err := workflow.ExecuteActivity(pctx, acts.PublishEvents, batch).Get(ctx, nil)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			o.log.Error("publish events", logging.KeyEventID, batch[0].ID, logging.Err(err))
			o.outbox.stuck = true
			o.waitFor(waitingPublish + stepx.Message(err))
			continue
		}
		if o.outbox.stuck {
			o.outbox.stuck = false
			o.waitFor("")
		}
		o.outbox.pending = o.outbox.pending[len(batch):]
	}
}
