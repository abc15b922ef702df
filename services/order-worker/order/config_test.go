package order_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/order-worker/order"
	"github.com/orderflow/orderflow/shared/config"
)

// TestConfigDefaultsAreValidAndBadValuesAreNamed: the defaults start a
// worker, and every refused setting names its variable, the shared
// pieces' included.
func TestConfigDefaultsAreValidAndBadValuesAreNamed(t *testing.T) {
	def, err := config.Load[order.Config]()
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if def.OpsAddr != ":9183" || def.OrdersTaskQueue != "orders-tq" || def.StepTimeout != 250*time.Millisecond {
		t.Fatalf("unexpected defaults: %+v", def)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*order.Config)
		want   string
	}{
		{"short step timeout", func(c *order.Config) { c.StepTimeout = time.Millisecond }, "STEP_TIMEOUT"},
		{"budget below two attempts", func(c *order.Config) { c.StepBudget = c.StepTimeout }, "STEP_BUDGET"},
		{"backoff upside down", func(c *order.Config) { c.RetryMaxInterval = c.RetryInitialInterval / 2 }, "RETRY_MAX_INTERVAL"},
		{"no dispatch attempt", func(c *order.Config) { c.MaxDispatchAttempts = 0 }, "MAX_DISPATCH_ATTEMPTS"},
		{"impossible faults", func(c *order.Config) { c.Faults.FailRate = 2 }, "FAULT_FAIL_RATE"},
		{"no shipping queue", func(c *order.Config) { c.ShippingTaskQueue = "" }, "SHIPPING_TASK_QUEUE"},
		{"no shutdown time", func(c *order.Config) { c.Shutdown.Timeout = 0 }, "SHUTDOWN_TIMEOUT"},
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
