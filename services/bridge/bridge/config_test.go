package bridge_test

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/config/configtest"
)

func TestConfigDefaultsAreValidAndBadValuesAreNamed(t *testing.T) {
	def := configtest.Load[bridge.Config](t, nil)
	if def.Durable != "bridge" || def.StatusQueue != "bridge" || def.Partitions < 1 || def.AckWait < 3*time.Second {
		t.Fatalf("defaults: %+v", def)
	}
	configtest.Refuses(t, def, map[string]func(*bridge.Config){
		"BRIDGE_DURABLE":         func(c *bridge.Config) { c.Durable = "" },
		"BRIDGE_PARTITIONS":      func(c *bridge.Config) { c.Partitions = 0 },
		"BRIDGE_MAX_ACK_PENDING": func(c *bridge.Config) { c.MaxAckPending = c.FetchBatch - 1 },
		"BRIDGE_MAX_DELIVER":     func(c *bridge.Config) { c.MaxDeliver = 1 },
		"BRIDGE_ACK_WAIT":        func(c *bridge.Config) { c.AckWait = time.Second },
		"BRIDGE_RETRY_MIN":       func(c *bridge.Config) { c.RetryMax = c.RetryMin / 2 }, // backoff upside down
		"BRIDGE_NOT_FOUND_GRACE": func(c *bridge.Config) { c.NotFoundGrace = -time.Second },
		"BRIDGE_STATUS_TIMEOUT":  func(c *bridge.Config) { c.StatusTimeout = 0 },
		"ORDERS_TASK_QUEUE":      func(c *bridge.Config) { c.OrdersTaskQueue = "" },
		"SHUTDOWN_TIMEOUT":       func(c *bridge.Config) { c.Shutdown.Timeout = 0 },
	})
}
