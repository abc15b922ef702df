// Package order owns OrderWorkflow, the order's lifecycle from receipt to a
// terminal state, and its activities, served on the orders task queue.
//
// Files: worker.go is the configuration (Config, Settings) and RunWorker;
// workflow.go is the business process, step by step; activities.go are the
// steps and event publishing, with their dependencies (Activities);
// outbox.go queues and publishes events; child.go is the parent's side of
// the shipping child (its progress, forwarded signals); signals.go applies
// client signals; visibility.go keeps search attributes and the UI's
// current details. activityio/ holds activity arguments shared with v0/,
// the previous release, kept for orders it started.
//
// Design choices and why:
//
//   - Nothing leaves a workflow before history holds it. Every business
//     step, and publishing events, is a Temporal activity (shared/step):
//     scheduled in history before it runs, so a workflow task that never
//     completes (a crash, a timeout, a replay that takes another path since
//     a signal arrived) cannot leave an event, a charge or a parcel that the
//     final history lacks. Local activities could: their effect happens
//     before the task that ran them commits.
//   - Each step has a RetryPolicy (backoff 50 ms ×1.5 up to 300 ms, so the
//     15 s budget holds the tail of the exercise's faults), a start-to-close
//     timeout (STEP_TIMEOUT: what a hang costs) and a schedule-to-close
//     budget per round (STEP_BUDGET). Retries add no history events; a round
//     that runs out says in status what the order waits for and schedules
//     the step again, so an outage of minutes costs a few events per budget
//     and the order completes when the dependency returns.
//   - A cancel never interrupts an attempt in flight: it requests
//     cancellation of the step, the attempt settles, the server makes no
//     other. The refund is registered as a compensation before the charge is
//     scheduled; a refund that finds no charge leaves a tombstone, so a
//     charge landing after it is refused.
//   - Dispatch is the point of no return and only ShippingWorkflow knows
//     whether the carrier took the package, so while a child runs the
//     parent forwards cancel and update-address to it and the child
//     decides. Once the carrier has the parcel, a failed child is resumed,
//     never re-dispatched; every dispatch carries the order's idempotency
//     key anyway.
//   - Only OrderWorkflow publishes events: it alone assigns the per-order
//     seq, so seq is gap-free. Events queue in an outbox drained by one
//     PublishEvents activity at a time, a batch per activity, in seq order;
//     business steps never wait for NATS; the workflow completes only after
//     its last event is stored.
//   - Settings are recorded with a side effect at start: a worker restarted
//     with other values never changes a running order's history.
//   - A cancellation requested through Temporal is treated as the cancel
//     signal (same rules, same compensation): the lifecycle runs on a
//     disconnected context so the order still ends in a terminal state.
//   - A failed order fails the workflow (contracts.ErrTypeOrderFailed, its status in
//     the details), so Temporal's own list shows it Failed.
//   - Changed workflow code meets running orders through workflow.GetVersion;
//     every released version has recorded histories in testdata/v<N> that
//     the tests replay.
package order
