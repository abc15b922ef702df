package projector

import (
	"strings"
	"time"

	"github.com/orderflow/orderflow/shared/config"
)

// Config is the projector's whole configuration, loaded once by
// config.Load[Config]() in main. Every variable is listed here.
type Config struct {
	config.Log
	config.NATS
	config.Postgres
	config.Shutdown

	// Durable names the JetStream consumer that remembers how far the live
	// projection got; two projector replicas with the same name share work.
	Durable string `env:"PROJECTOR_DURABLE" envDefault:"projector"`
	// BatchSize is the most events written per transaction; 1 writes every
	// event in its own transaction. It is capped by Concurrency, since only
	// that many messages are in flight at once.
	BatchSize int `env:"PROJECTOR_BATCH_SIZE" envDefault:"128"`
	// FlushInterval is how long a batch waits after its first event for
	// more to arrive before it is written anyway.
	FlushInterval time.Duration `env:"PROJECTOR_FLUSH_INTERVAL" envDefault:"5ms"`
	// Concurrency is how many messages are processed at once (parallel
	// pulls from the durable consumer).
	Concurrency int `env:"PROJECTOR_CONCURRENCY" envDefault:"256"`
	// AckWait is how long JetStream waits for an ack before redelivering.
	AckWait time.Duration `env:"PROJECTOR_ACK_WAIT" envDefault:"30s"`
	// MaxAckPending bounds messages delivered but not yet acknowledged
	// (in flight plus prefetched).
	MaxAckPending int `env:"PROJECTOR_MAX_ACK_PENDING" envDefault:"2048"`
	// Retries is how many times a transiently failing event is retried in
	// process (exponential backoff from 100ms) before it is nacked.
	Retries int `env:"PROJECTOR_RETRIES" envDefault:"5"`
	// RedeliveryMaxDelay caps the growing delay before JetStream redelivers
	// a nacked event (while PostgreSQL is down, say).
	RedeliveryMaxDelay time.Duration `env:"PROJECTOR_REDELIVERY_MAX_DELAY" envDefault:"5s"`
	// MaxDeliveries dead-letters an event that still fails transiently after
	// this many deliveries; 0 (the default) retries forever so that an
	// outage never loses an event.
	MaxDeliveries int `env:"PROJECTOR_MAX_DELIVERIES" envDefault:"0"`
	// OpsAddr serves /metrics, /livez and /readyz; "off" disables it.
	OpsAddr string `env:"OPS_ADDR" envDefault:":9185"`
}

// OpsAddress is OpsAddr, for app.Run.
func (c Config) OpsAddress() string { return c.OpsAddr }

// Validate rejects settings that cannot work.
func (c Config) Validate() error {
	var p config.Problems
	p.Add(c.Shutdown.Validate())
	p.Check(c.Durable != "" && !strings.ContainsAny(c.Durable, ".*> \t"), "PROJECTOR_DURABLE %q must be a non-empty name without '.', '*', '>' or spaces", c.Durable)
	p.Check(c.BatchSize >= 1, "PROJECTOR_BATCH_SIZE must be at least 1, got %d", c.BatchSize)
	p.Check(c.FlushInterval >= 0, "PROJECTOR_FLUSH_INTERVAL must not be negative")
	p.Check(c.Concurrency >= 1, "PROJECTOR_CONCURRENCY must be at least 1, got %d", c.Concurrency)
	p.Check(c.AckWait >= time.Second, "PROJECTOR_ACK_WAIT must be at least 1s, got %s", c.AckWait)
	p.Check(c.MaxAckPending >= c.Concurrency, "PROJECTOR_MAX_ACK_PENDING (%d) must be at least PROJECTOR_CONCURRENCY (%d)", c.MaxAckPending, c.Concurrency)
	p.Check(c.Retries >= 0 && c.MaxDeliveries >= 0, "PROJECTOR_RETRIES and PROJECTOR_MAX_DELIVERIES must not be negative")
	p.Check(c.RedeliveryMaxDelay > 0, "PROJECTOR_REDELIVERY_MAX_DELAY must be positive")
	return p.Err()
}
