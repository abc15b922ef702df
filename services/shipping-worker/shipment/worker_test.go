package shipment

import (
	"testing"

	"github.com/orderflow/orderflow/shared/config"
)

func TestConfigReadsFaultVariables(t *testing.T) {
	t.Setenv("FAULT_FAIL_RATE", "0.33")
	t.Setenv("FAULT_HANG_RATE", "0.34")
	cfg, err := config.Load[Config]()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Faults.FailRate != 0.33 || cfg.Faults.HangRate != 0.34 || cfg.ShippingTaskQueue != "shipping-tq" {
		t.Fatalf("config %+v", cfg)
	}
	t.Setenv("FAULT_FAIL_RATE", "-1")
	if _, err := config.Load[Config](); err == nil {
		t.Fatal("a negative rate was accepted")
	}
}
