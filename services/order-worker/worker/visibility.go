package worker

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
)

var (
	stateKey = temporal.NewSearchAttributeKeyKeyword(contracts.SearchAttrOrderState)
	stepKey  = temporal.NewSearchAttributeKeyKeyword(contracts.SearchAttrOrderStep)
)

// visibility is what Temporal's list and UI were last told.
type visibility struct {
	state, step, details string
}

// visible keeps the OrderState and OrderStep search attributes and the
// workflow's current details (shown in the UI) in step with the status.
// Search attributes are upserted only when they change: each upsert is a
// history event.
func (o *order) visible() {
	details := fmt.Sprintf("**%s** · step `%s`", o.st.State, o.st.Step)
	if o.st.WaitingFor != "" {
		details += " · waiting for: " + o.st.WaitingFor
	}
	if details != o.visibility.details {
		o.visibility.details = details
		workflow.SetCurrentDetails(o.ctx, details)
	}
	state, step := string(o.st.State), string(o.st.Step)
	if state == o.visibility.state && step == o.visibility.step {
		return
	}
	o.visibility.state, o.visibility.step = state, step
	if err := workflow.UpsertTypedSearchAttributes(o.ctx, stateKey.ValueSet(state), stepKey.ValueSet(step)); err != nil {
		o.log.Warn("upsert search attributes", logging.Err(err))
	}
}
