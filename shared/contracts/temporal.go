package contracts

import (
	"strconv"
	"time"
)

// Temporal names. Task queues are defaults: tests run on their own queues.
const (
	Namespace            = "default"
	TaskQueueOrders      = "orders-tq"
	TaskQueueShipping    = "shipping-tq"
	WorkflowOrder        = "OrderWorkflow"
	WorkflowShipping     = "ShippingWorkflow"
	SignalCancel         = "cancel"
	SignalUpdateAddress  = "update-address"
	SignalApprove        = "approve"
	SignalDispatchFailed = "dispatch-failed"
	QueryStatus          = "status"
	// ErrTypeOrderFailed is the failure type of an OrderWorkflow whose order
	// ended failed: the workflow fails with it after its terminal event, the
	// final OrderStatus in its details.
	ErrTypeOrderFailed = "OrderFailed"
	// Custom search attributes (Keyword) kept current by OrderWorkflow, so
	// `temporal workflow list -q "OrderState='shipped'"` works. The run
	// command and the test harness register them on the dev server.
	SearchAttrOrderState = "OrderState"
	SearchAttrOrderStep  = "OrderStep"
	// MemoPaymentID is set on every OrderWorkflow start so the bridge can tell
	// a duplicate start from a conflicting one without running a query.
	MemoPaymentID = "payment_id"
	// MemoOwner is the starting client, set on every OrderWorkflow start so
	// the bridge can refuse another client's signals without a query.
	MemoOwner = "owner"
)

// OrderWorkflowID derives the workflow ID from the order ID. Starting a
// second workflow with the same ID is refused by Temporal, which makes a
// duplicated start command harmless long after JetStream's dedup window.
func OrderWorkflowID(orderID string) string { return "order-wf-" + orderID }

// ShippingWorkflowID names the child for one shipping attempt (1-based).
func ShippingWorkflowID(orderID string, attempt int) string {
	return "shipping-wf-" + orderID + "-" + strconv.Itoa(attempt)
}

// OrderWorkflowTaskTimeout is set on every OrderWorkflow start. Business steps
// run as chains of local activities inside one workflow task, and a `status`
// query is only answered when the worker heartbeats that task, at 80% of this
// timeout: 2 s keeps live status within about 1.6 s without making the worker
// heartbeat often on a loaded machine.
const OrderWorkflowTaskTimeout = 2 * time.Second
