// Package worker runs OrderWorkflow and its activities on the orders task
// queue.
//
// Design choices and why:
//
//   - Business steps are local activities, one per attempt, retried by a
//     loop in workflow code (shared/faults/retry) with no backoff. A local
//     attempt costs no server round trip; at 33% fail / 34% hang a step
//     needs about three attempts and hangs about once, so the hang timeout
//     (STEP_TIMEOUT, 250 ms) is what the faults cost, step by step. The
//     workflow counts the attempts itself, keeps each error with its time
//     in the status, logs every retry with order ID, step and attempt, and
//     bounds dispatch (MAX_DISPATCH_ATTEMPTS).
//   - A cancel never interrupts an attempt in flight: it is acted on
//     between attempts (at most one step timeout later). So a charge that
//     committed is always seen, and a cancel after the first charge attempt
//     refunds; the refund is idempotent and reports "not_charged" when no
//     charge committed.
//   - Dispatch is the point of no return and only ShippingWorkflow knows
//     whether the carrier took the package, so while a child runs the
//     parent forwards cancel and update-address to it and the child
//     decides, settling a signal that arrives during a dispatch attempt
//     once that attempt's outcome is known. The child reports its
//     cumulative progress (shipping-progress signal, and its result); a
//     forwarded signal the child never saw is settled by the parent from
//     the child's outcome.
//   - Only OrderWorkflow publishes events: it alone assigns the per-order
//     seq, so seq is gap-free. Events go through an outbox drained by a
//     publisher coroutine (one local activity per event, in seq order,
//     retried without limit), so business steps never wait for NATS, and
//     the workflow completes only after its last event is acknowledged.
//   - Settings are recorded with a side effect at start: a worker restarted
//     with other values never changes a running order's history.
//   - A cancellation requested through Temporal is treated as the cancel
//     signal (same rules, same compensation): the lifecycle runs on a
//     disconnected context so the order still ends in a terminal state.
//   - Queries are answered between workflow tasks, and a task running local
//     activities stays open until they finish; the SDK heartbeats such a
//     task at 80% of the workflow task timeout. Orders are started with a
//     2 s WorkflowTaskTimeout so the status query waits at most ~1.6 s.
package worker
