package projector_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/config"
)

func TestConfigDefaultsAreValidAndBadValuesAreNamed(t *testing.T) {
	def, err := config.Load[projector.Config]()
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if def.Durable != "projector" || def.BatchSize != 128 || def.Concurrency != 256 || def.MaxDeliveries != 0 {
		t.Fatalf("unexpected defaults: %+v", def)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*projector.Config)
		want   string
	}{
		{"dotted durable", func(c *projector.Config) { c.Durable = "a.b" }, "PROJECTOR_DURABLE"},
		{"zero batch", func(c *projector.Config) { c.BatchSize = 0 }, "PROJECTOR_BATCH_SIZE"},
		{"zero concurrency", func(c *projector.Config) { c.Concurrency = 0 }, "PROJECTOR_CONCURRENCY"},
		{"tiny ack wait", func(c *projector.Config) { c.AckWait = time.Millisecond }, "PROJECTOR_ACK_WAIT"},
		{"ack pending below concurrency", func(c *projector.Config) { c.MaxAckPending = c.Concurrency - 1 }, "PROJECTOR_MAX_ACK_PENDING"},
		{"negative retries", func(c *projector.Config) { c.Retries = -1 }, "PROJECTOR_RETRIES"},
		{"no redelivery delay", func(c *projector.Config) { c.RedeliveryMaxDelay = 0 }, "PROJECTOR_REDELIVERY_MAX_DELAY"},
		{"no shutdown time", func(c *projector.Config) { c.Shutdown.Timeout = 0 }, "SHUTDOWN_TIMEOUT"},
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
