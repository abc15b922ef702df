package shipment_test

import (
	"strings"
	"testing"

	"github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/config"
)

// TestConfigDefaultsAreValidAndBadValuesAreNamed: the defaults start a
// worker, and every refused setting names its variable.
func TestConfigDefaultsAreValidAndBadValuesAreNamed(t *testing.T) {
	def, err := config.Load[shipment.Config]()
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if def.OpsAddr != ":9184" || def.ShippingTaskQueue != "shipping-tq" {
		t.Fatalf("unexpected defaults: %+v", def)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*shipment.Config)
		want   string
	}{
		{"no shipping queue", func(c *shipment.Config) { c.ShippingTaskQueue = "" }, "SHIPPING_TASK_QUEUE"},
		{"impossible faults", func(c *shipment.Config) { c.Faults.HangRate = -1 }, "FAULT_HANG_RATE"},
		{"no shutdown time", func(c *shipment.Config) { c.Shutdown.Timeout = 0 }, "SHUTDOWN_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := def
			tc.mutate(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
