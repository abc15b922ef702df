package contracts

import "github.com/orderflow/orderflow/shared/domain"

import "time"

// SignalShippingProgress is sent by ShippingWorkflow to its parent on every
// shipping transition and signal decision. Only the parent publishes events
// (it owns the per-order sequence), so the child reports instead of
// publishing.
const SignalShippingProgress = "shipping-progress"

// ShippingInput is ShippingWorkflow's only argument. The parent passes its
// timing settings so both workflows keep the values recorded at order start.
type ShippingInput struct {
	OrderID             string         `json:"order_id"`
	ParentWorkflowID    string         `json:"parent_workflow_id"`
	Attempt             int            `json:"attempt"`
	Items               []domain.Item  `json:"items"`
	Address             domain.Address `json:"address"`
	StepTimeout         time.Duration  `json:"step_timeout"`
	MaxDispatchAttempts int            `json:"max_dispatch_attempts"`
	// Retry is the parent's step retry settings (zero: the child's defaults).
	Retry StepRetry `json:"retry"`
	// Dispatched is set when an earlier shipping attempt already dispatched
	// the parcel: this attempt only marks it shipped, it never dispatches a
	// second one.
	Dispatched *Parcel `json:"dispatched,omitempty"`
}

// StepRetry is how a business step is retried as a Temporal activity.
type StepRetry struct {
	// Budget is the step's ScheduleToClose: past it the workflow notes what
	// it is waiting for in status and schedules the step again.
	Budget          time.Duration `json:"budget"`
	InitialInterval time.Duration `json:"initial_interval"`
	MaxInterval     time.Duration `json:"max_interval"`
}

// Parcel is what the carrier took: one per order, at most.
type Parcel struct {
	Carrier        string    `json:"carrier"`
	TrackingNumber string    `json:"tracking_number"`
	DispatchedAt   time.Time `json:"dispatched_at"`
}

// CarrierIdempotencyKey is sent with every dispatch of an order, in every
// shipping attempt: a carrier that already took the order's parcel returns
// it instead of taking a second one.
func CarrierIdempotencyKey(orderID string) string { return "order-" + orderID }

// Shipping outcomes, in ShippingReport.Outcome once the child has ended.
const (
	ShippingShipped        = "shipped"
	ShippingCancelled      = "cancelled"
	ShippingDispatchFailed = "dispatch_failed"
)

// SignalDecision is the child's verdict on a cancel or update-address the
// parent forwarded: the child alone knows whether the carrier was dispatched.
type SignalDecision struct {
	CommandID string          `json:"command_id"`
	Signal    string          `json:"signal"`
	Accepted  bool            `json:"accepted"`
	Reason    string          `json:"reason,omitempty"`
	Address   *domain.Address `json:"address,omitempty"`
	At        time.Time       `json:"at"`
}

// ShippingReport is the child's cumulative progress: the payload of
// SignalShippingProgress and, with Outcome set, the child's result. Seq grows
// with every report so the parent ignores a stale one delivered late.
type ShippingReport struct {
	Attempt        int                 `json:"attempt"`
	Seq            int                 `json:"seq"`
	Outcome        string              `json:"outcome,omitempty"`
	Reason         string              `json:"reason,omitempty"`
	Address        domain.Address      `json:"address"`
	PreparedAt     *time.Time          `json:"prepared_at,omitempty"`
	DispatchedAt   *time.Time          `json:"dispatched_at,omitempty"`
	ShippedAt      *time.Time          `json:"shipped_at,omitempty"`
	TrackingNumber string              `json:"tracking_number,omitempty"`
	Carrier        string              `json:"carrier,omitempty"`
	Attempts       map[domain.Step]int `json:"attempts"`
	Errors         []StepError         `json:"errors,omitempty"`
	Decisions      []SignalDecision    `json:"decisions,omitempty"`
}
