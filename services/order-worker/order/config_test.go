package order_test

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/order-worker/order"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/config/configtest"
)

// TestConfigDefaultsAreValidAndBadValuesAreNamed: the defaults start a
// worker and reach the workflow settings, and every refused setting names
// its variable, the shared pieces' included.
func TestConfigDefaultsAreValidAndBadValuesAreNamed(t *testing.T) {
	def := configtest.Load[order.Config](t, nil)
	s := def.Settings()
	if def.OpsAddr != ":9183" || def.OrdersTaskQueue != "orders-tq" || s.ShippingTaskQueue != "shipping-tq" ||
		s.AutoApproveAfter != 500*time.Millisecond || s.StepTimeout != 250*time.Millisecond ||
		s.MaxDispatchAttempts != 10 || s.MaxShippingAttempts != 3 || s.ManualReviewDeadline != 24*time.Hour {
		t.Fatalf("unexpected defaults: %+v, settings %+v", def, s)
	}
	configtest.Refuses(t, def, map[string]func(*order.Config){
		"STEP_TIMEOUT":          func(c *order.Config) { c.StepTimeout = time.Millisecond },
		"STEP_BUDGET":           func(c *order.Config) { c.StepBudget = c.StepTimeout }, // below two attempts
		"RETRY_MAX_INTERVAL":    func(c *order.Config) { c.RetryMaxInterval = c.RetryInitialInterval / 2 },
		"MAX_DISPATCH_ATTEMPTS": func(c *order.Config) { c.MaxDispatchAttempts = 0 },
		"FAULT_FAIL_RATE":       func(c *order.Config) { c.Faults.FailRate = 2 },
		"SHIPPING_TASK_QUEUE":   func(c *order.Config) { c.ShippingTaskQueue = "" },
		"SHUTDOWN_TIMEOUT":      func(c *order.Config) { c.Shutdown.Timeout = 0 },
	})
}

func TestFaultVariables(t *testing.T) {
	cfg := configtest.Load[order.Config](t, map[string]string{"FAULT_FAIL_RATE": "0.33", "FAULT_HANG_RATE": "0.34", "FAULT_SEED": "5"})
	if cfg.Faults.FailRate != 0.33 || cfg.Faults.HangRate != 0.34 || cfg.Faults.Seed != 5 {
		t.Fatalf("faults %+v", cfg.Faults)
	}
	t.Setenv("FAULT_HANG_RATE", "0.9")
	if _, err := config.Load[order.Config](); err == nil {
		t.Fatal("fail + hang rate above 1 was accepted")
	}
}
