package shipment_test

import (
	"testing"

	"github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/config/configtest"
)

// TestConfigDefaultsAreValidAndBadValuesAreNamed: the defaults start a
// worker, and every refused setting names its variable.
func TestConfigDefaultsAreValidAndBadValuesAreNamed(t *testing.T) {
	def := configtest.Load[shipment.Config](t, nil)
	if def.OpsAddr != ":9184" || def.ShippingTaskQueue != "shipping-tq" {
		t.Fatalf("unexpected defaults: %+v", def)
	}
	configtest.Refuses(t, def, map[string]func(*shipment.Config){
		"SHIPPING_TASK_QUEUE": func(c *shipment.Config) { c.ShippingTaskQueue = "" },
		"FAULT_HANG_RATE":     func(c *shipment.Config) { c.Faults.HangRate = -1 },
		"SHUTDOWN_TIMEOUT":    func(c *shipment.Config) { c.Shutdown.Timeout = 0 },
	})
}
