package order

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/config"
)

func TestConfigDefaultsAndFaultVariables(t *testing.T) {
	t.Setenv("FAULT_FAIL_RATE", "0.33")
	t.Setenv("FAULT_HANG_RATE", "0.34")
	t.Setenv("FAULT_SEED", "5")
	cfg, err := config.Load[Config]()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Faults.FailRate != 0.33 || cfg.Faults.HangRate != 0.34 || cfg.Faults.Seed != 5 {
		t.Fatalf("faults %+v", cfg.Faults)
	}
	s := cfg.Settings()
	if s.AutoApproveAfter != 500*time.Millisecond || s.StepTimeout != 250*time.Millisecond ||
		s.MaxDispatchAttempts != 10 || s.MaxShippingAttempts != 3 || s.ManualReviewDeadline != 24*time.Hour ||
		s.ShippingTaskQueue != "shipping-tq" || cfg.OrdersTaskQueue != "orders-tq" {
		t.Fatalf("settings %+v", s)
	}
	t.Setenv("FAULT_HANG_RATE", "0.9")
	if _, err := config.Load[Config](); err == nil {
		t.Fatal("fail + hang rate above 1 was accepted")
	}
}
