package order

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
	dirty                bool
}

// visible keeps the workflow's current details (shown in the UI) in step
// with the status, and marks the search attributes for upserting.
func (o *order) visible() {
	details := fmt.Sprintf("**%s** · step `%s`", o.st.State, o.st.Step)
	if o.st.WaitingFor != "" {
		details += " · waiting for: " + o.st.WaitingFor
	}
	if details != o.visibility.details {
		o.visibility.details = details
		workflow.SetCurrentDetails(o.ctx, details)
	}
	o.visibility.dirty = true
}

// upsertSearchAttributes keeps OrderState and OrderStep current. It runs
// when the main flow blocks, so the changes of one workflow task make one
// upsert (each is a history event), and only when a value changed. The
// main flow always blocks (on its outbox) before the workflow completes.
func (o *order) upsertSearchAttributes(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return o.visibility.dirty }); err != nil {
			return
		}
		o.visibility.dirty = false
		state, step := string(o.st.State), string(o.st.Step)
		if state == o.visibility.state && step == o.visibility.step {
			continue
		}
		o.visibility.state, o.visibility.step = state, step
		if err := workflow.UpsertTypedSearchAttributes(ctx, stateKey.ValueSet(state), stepKey.ValueSet(step)); err != nil {
			o.log.Warn("upsert search attributes", logging.Err(err))
		}
	}
}
