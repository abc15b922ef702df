package bridge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/config"
)

func TestConfigDefaultsAreValid(t *testing.T) {
	cfg, err := config.Load[bridge.Config]()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Durable != "bridge" || cfg.StatusQueue != "bridge" || cfg.Partitions < 1 || cfg.AckWait < 3*time.Second {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestConfigRejectsUnsafeSettings(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*bridge.Config)
		want  string
	}{
		{"no durable", func(c *bridge.Config) { c.Durable = "" }, "BRIDGE_DURABLE"},
		{"no partitions", func(c *bridge.Config) { c.Partitions = 0 }, "BRIDGE_PARTITIONS"},
		{"ack pending below batch", func(c *bridge.Config) { c.MaxAckPending = c.FetchBatch - 1 }, "BRIDGE_MAX_ACK_PENDING"},
		{"single delivery", func(c *bridge.Config) { c.MaxDeliver = 1 }, "BRIDGE_MAX_DELIVER"},
		{"short ack wait", func(c *bridge.Config) { c.AckWait = time.Second }, "BRIDGE_ACK_WAIT"},
		{"backoff upside down", func(c *bridge.Config) { c.RetryMax = c.RetryMin / 2 }, "BRIDGE_RETRY_MIN"},
		{"negative grace", func(c *bridge.Config) { c.NotFoundGrace = -time.Second }, "BRIDGE_NOT_FOUND_GRACE"},
		{"no status timeout", func(c *bridge.Config) { c.StatusTimeout = 0 }, "BRIDGE_STATUS_TIMEOUT"},
		{"no task queue", func(c *bridge.Config) { c.OrdersTaskQueue = "" }, "ORDERS_TASK_QUEUE"},
		{"no shutdown time", func(c *bridge.Config) { c.Shutdown.Timeout = 0 }, "SHUTDOWN_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load[bridge.Config]()
			if err != nil {
				t.Fatal(err)
			}
			tt.tweak(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
