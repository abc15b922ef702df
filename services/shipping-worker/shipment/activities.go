package shipment

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/activity"

	"github.com/orderflow/orderflow/services/shipping-worker/shipment/activityio"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/logging"
	stepx "github.com/orderflow/orderflow/shared/step"
)

// StepInput is the argument of every shipping step (shared with v0, see
// activityio).
type StepInput = activityio.StepInput

// faultKey gives each shipping attempt, and each later round of a step, its
// own fault draws.
func faultKey(in StepInput) string {
	if in.Round > 1 {
		return fmt.Sprintf("%s#%d#r%d", in.OrderID, in.ShippingAttempt, in.Round)
	}
	return fmt.Sprintf("%s#%d", in.OrderID, in.ShippingAttempt)
}

// StepResult is what a step returns: the attempt that succeeded.
type StepResult struct {
	Attempt int `json:"attempt"`
}

// Dispatch is what a carrier returns when it takes a package.
type Dispatch struct {
	Attempt        int    `json:"attempt"`
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

// Activities are the shipping steps, run as Temporal activities on the
// shipping task queue. Every step first goes through the fault injector.
type Activities struct {
	Faults  *faults.Injector
	Carrier Carrier
	Log     *slog.Logger
}

func (a *Activities) inject(ctx context.Context, step domain.Step, in StepInput) error {
	attempt := in.Attempt
	if attempt == 0 {
		attempt = stepx.Attempt(ctx)
	}
	if err := a.Faults.Inject(ctx, string(step), faultKey(in), attempt); err != nil {
		a.Log.DebugContext(ctx, "fault injected", logging.KeyOrderID, in.OrderID, logging.KeyStep, step,
			logging.KeyAttempt, attempt, logging.KeyWorkflowID, activity.GetInfo(ctx).WorkflowExecution.ID, logging.Err(err))
		return err
	}
	return nil
}

// PreparePackage picks and packs the items.
func (a *Activities) PreparePackage(ctx context.Context, in StepInput) (StepResult, error) {
	if err := a.inject(ctx, domain.StepPreparePackage, in); err != nil {
		return StepResult{}, err
	}
	return StepResult{Attempt: stepx.Attempt(ctx)}, nil
}

// DispatchCarrier hands the package to the carrier: the point of no return
// after which cancel and address changes are refused. The carrier gets the
// order's idempotency key, the same in every attempt and shipping attempt,
// so an order never ships a second parcel.
func (a *Activities) DispatchCarrier(ctx context.Context, in StepInput) (Dispatch, error) {
	if err := a.inject(ctx, domain.StepDispatchCarrier, in); err != nil {
		return Dispatch{}, err
	}
	d, err := a.Carrier.Dispatch(ctx, Shipment{
		IdempotencyKey:  contracts.CarrierIdempotencyKey(in.OrderID),
		OrderID:         in.OrderID,
		ShippingAttempt: in.ShippingAttempt,
		Address:         in.Address,
		Items:           in.Items,
	})
	if err != nil {
		return Dispatch{}, fmt.Errorf("carrier dispatch: %w", err)
	}
	d.Attempt = stepx.Attempt(ctx)
	return d, nil
}

// MarkShipped records that the carrier has the package.
func (a *Activities) MarkShipped(ctx context.Context, in StepInput) (StepResult, error) {
	if err := a.inject(ctx, domain.StepMarkShipped, in); err != nil {
		return StepResult{}, err
	}
	return StepResult{Attempt: stepx.Attempt(ctx)}, nil
}
