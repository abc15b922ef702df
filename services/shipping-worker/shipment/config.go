package shipment

import (
	"fmt"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/faults"
)

// Config is everything the shipping worker reads from the environment.
// Timing settings (step timeout, dispatch attempts) are not here: the parent
// passes them in ShippingInput, so both workflows use the values recorded at
// order start.
type Config struct {
	config.Log
	config.Postgres // the simulated carrier's parcels table
	config.Temporal
	config.Shutdown
	Faults faults.Config
}

// Validate checks what the environment cannot express with defaults.
func (c Config) Validate() error {
	if err := c.Faults.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	if c.ShippingTaskQueue == "" {
		return fmt.Errorf("SHIPPING_TASK_QUEUE is empty")
	}
	return nil
}
