package projector_test

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/config/configtest"
)

func TestConfigDefaultsAreValidAndBadValuesAreNamed(t *testing.T) {
	def := configtest.Load[projector.Config](t, nil)
	if def.Durable != "projector" || def.BatchSize != 128 || def.Concurrency != 256 || def.MaxDeliveries != 0 {
		t.Fatalf("unexpected defaults: %+v", def)
	}
	configtest.Refuses(t, def, map[string]func(*projector.Config){
		"PROJECTOR_DURABLE":              func(c *projector.Config) { c.Durable = "a.b" },
		"PROJECTOR_BATCH_SIZE":           func(c *projector.Config) { c.BatchSize = 0 },
		"PROJECTOR_CONCURRENCY":          func(c *projector.Config) { c.Concurrency = 0 },
		"PROJECTOR_ACK_WAIT":             func(c *projector.Config) { c.AckWait = time.Millisecond },
		"PROJECTOR_MAX_ACK_PENDING":      func(c *projector.Config) { c.MaxAckPending = c.Concurrency - 1 },
		"PROJECTOR_RETRIES":              func(c *projector.Config) { c.Retries = -1 },
		"PROJECTOR_REDELIVERY_MAX_DELAY": func(c *projector.Config) { c.RedeliveryMaxDelay = 0 },
		"SHUTDOWN_TIMEOUT":               func(c *projector.Config) { c.Shutdown.Timeout = 0 },
	})
}
