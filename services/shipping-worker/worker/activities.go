package worker

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"

	"go.temporal.io/sdk/activity"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/logging"
)

// StepInput is the argument of every shipping step: one attempt of one step
// of one shipping attempt.
type StepInput struct {
	OrderID         string            `json:"order_id"`
	ShippingAttempt int               `json:"shipping_attempt"`
	Attempt         int               `json:"attempt"`
	Address         contracts.Address `json:"address"`
	Items           []contracts.Item  `json:"items"`
}

// faultKey gives each shipping attempt its own fault draws.
func (in StepInput) faultKey() string {
	return in.OrderID + "#" + strconv.Itoa(in.ShippingAttempt)
}

// Dispatch is what a carrier returns when it takes a package.
type Dispatch struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

// Carrier hands a package to a carrier. It is the worker's only outside
// party, owned here so tests can plug in a carrier that refuses some
// addresses and the product can plug in a real one.
type Carrier interface {
	Dispatch(ctx context.Context, in StepInput) (Dispatch, error)
}

// SimulatedCarrier accepts every package and derives the tracking number
// from the order and shipping attempt, so a retried dispatch returns the
// same number (a real carrier API would be called with an idempotency key).
type SimulatedCarrier struct{}

// Dispatch implements Carrier.
func (SimulatedCarrier) Dispatch(_ context.Context, in StepInput) (Dispatch, error) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(in.faultKey()))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h.Sum64())
	return Dispatch{Carrier: "SimPost", TrackingNumber: fmt.Sprintf("SP%X", b[:6])}, nil
}

// Activities are the shipping steps, run as local activities by
// ShippingWorkflow. Every step first goes through the fault injector.
type Activities struct {
	Faults  *faults.Injector
	Carrier Carrier
	Log     *slog.Logger
}

func (a *Activities) inject(ctx context.Context, step contracts.Step, in StepInput) error {
	if err := a.Faults.Inject(ctx, string(step), in.faultKey(), in.Attempt); err != nil {
		a.Log.DebugContext(ctx, "fault injected", logging.KeyOrderID, in.OrderID, logging.KeyStep, step,
			logging.KeyAttempt, in.Attempt, logging.KeyWorkflowID, activity.GetInfo(ctx).WorkflowExecution.ID, logging.Err(err))
		return err
	}
	return nil
}

// PreparePackage picks and packs the items.
func (a *Activities) PreparePackage(ctx context.Context, in StepInput) error {
	return a.inject(ctx, contracts.StepPreparePackage, in)
}

// DispatchCarrier hands the package to the carrier: the point of no return
// after which cancel and address changes are refused.
func (a *Activities) DispatchCarrier(ctx context.Context, in StepInput) (Dispatch, error) {
	if err := a.inject(ctx, contracts.StepDispatchCarrier, in); err != nil {
		return Dispatch{}, err
	}
	d, err := a.Carrier.Dispatch(ctx, in)
	if err != nil {
		return Dispatch{}, fmt.Errorf("carrier dispatch: %w", err)
	}
	return d, nil
}

// MarkShipped records that the carrier has the package.
func (a *Activities) MarkShipped(ctx context.Context, in StepInput) error {
	return a.inject(ctx, contracts.StepMarkShipped, in)
}
