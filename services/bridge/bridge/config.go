package bridge

import (
	"time"

	"github.com/orderflow/orderflow/shared/config"
)

// Config is the bridge's whole configuration, loaded once in main with
// config.Load[bridge.Config](). The knobs below trade latency, ordering and
// resilience; their defaults suit one bridge next to a local dev server.
type Config struct {
	config.Log
	config.NATS
	config.Temporal
	config.Shutdown

	// Durable is the JetStream consumer name; every bridge replica shares
	// it. JetStream pins it to one replica at a time (the others stand by),
	// so one order's commands are applied in stream order however many
	// replicas run.
	Durable string `env:"BRIDGE_DURABLE" envDefault:"bridge"`
	// PinnedTTL is how long the pinned replica may go without pulling
	// before a standby replica takes the commands over (failover time).
	PinnedTTL time.Duration `env:"BRIDGE_PINNED_TTL" envDefault:"5s"`
	// Partitions is the number of sequential workers. Commands of one order
	// always land on the same worker, which keeps them in stream order.
	Partitions int `env:"BRIDGE_PARTITIONS" envDefault:"32"`
	// FetchBatch is how many messages one pull asks for.
	FetchBatch int `env:"BRIDGE_FETCH_BATCH" envDefault:"256"`
	// MaxAckPending bounds the commands held unacknowledged at once (all
	// partitions together); the broker stops delivering beyond it.
	MaxAckPending int `env:"BRIDGE_MAX_ACK_PENDING" envDefault:"2048"`
	// AckWait is how long the broker waits before redelivering a command the
	// bridge holds. Held commands are kept alive with "in progress" acks
	// every AckWait/3, so it only matters when a bridge dies.
	AckWait time.Duration `env:"BRIDGE_ACK_WAIT" envDefault:"8s"`
	// MaxDeliver bounds redeliveries of a command that keeps killing or
	// stalling its bridge; past it the command is dead-lettered.
	MaxDeliver int `env:"BRIDGE_MAX_DELIVER" envDefault:"10"`
	// CallTimeout bounds one call to Temporal.
	CallTimeout time.Duration `env:"BRIDGE_TEMPORAL_CALL_TIMEOUT" envDefault:"5s"`
	// RetryMin and RetryMax bound the exponential backoff between in-place
	// retries while Temporal or NATS is unreachable; each pause is jittered
	// by up to a fifth either way (app.Backoff).
	RetryMin time.Duration `env:"BRIDGE_RETRY_MIN" envDefault:"100ms"`
	RetryMax time.Duration `env:"BRIDGE_RETRY_MAX" envDefault:"2s"`
	// NotFoundGrace is how long a signal for an order without a workflow is
	// retried before it is rejected as "unknown order": the start may still
	// be on its way from another path.
	NotFoundGrace time.Duration `env:"BRIDGE_NOT_FOUND_GRACE" envDefault:"3s"`
	// ReorderWindow holds a redelivered command back briefly so commands of
	// the same order redelivered out of stream order can be put back in
	// order before any is applied. First deliveries are not delayed.
	ReorderWindow time.Duration `env:"BRIDGE_REORDER_WINDOW" envDefault:"250ms"`
	// StatusQueue is the queue group of the live-status responders.
	StatusQueue string `env:"BRIDGE_STATUS_QUEUE" envDefault:"bridge"`
	// StatusTimeout bounds the Temporal calls behind one status reply, so a
	// requester gets an answer (possibly an error) quickly.
	StatusTimeout time.Duration `env:"BRIDGE_STATUS_TIMEOUT" envDefault:"2s"`
	// StatusConcurrency bounds status requests answered at once.
	StatusConcurrency int `env:"BRIDGE_STATUS_CONCURRENCY" envDefault:"32"`
	// OpsAddr serves /metrics, /livez and /readyz; "off" disables it.
	OpsAddr string `env:"OPS_ADDR" envDefault:":9182"`
}

// OpsAddress is OpsAddr, for app.Run.
func (c Config) OpsAddress() string { return c.OpsAddr }

// Validate refuses settings that would break ordering or keep-alives.
func (c Config) Validate() error {
	var p config.Problems
	p.Add(c.Temporal.Validate(), c.Shutdown.Validate())
	p.Check(c.Durable != "", "BRIDGE_DURABLE is empty")
	p.Check(c.Partitions >= 1 && c.Partitions <= 4096, "BRIDGE_PARTITIONS must be 1..4096, got %d", c.Partitions)
	p.Check(c.FetchBatch >= 1, "BRIDGE_FETCH_BATCH must be positive, got %d", c.FetchBatch)
	p.Check(c.MaxAckPending >= c.FetchBatch, "BRIDGE_MAX_ACK_PENDING (%d) must be at least BRIDGE_FETCH_BATCH (%d)", c.MaxAckPending, c.FetchBatch)
	p.Check(c.MaxDeliver >= 2, "BRIDGE_MAX_DELIVER must be at least 2, got %d", c.MaxDeliver)
	p.Check(c.CallTimeout > 0, "BRIDGE_TEMPORAL_CALL_TIMEOUT must be positive")
	p.Check(c.RetryMin > 0 && c.RetryMax >= c.RetryMin, "BRIDGE_RETRY_MIN must be positive and at most BRIDGE_RETRY_MAX")
	// Keep-alives go out every AckWait/3; below 3s they would flood the broker.
	p.Check(c.AckWait >= 3*time.Second, "BRIDGE_ACK_WAIT must be at least 3s, got %s", c.AckWait)
	p.Check(c.ReorderWindow >= 0, "BRIDGE_REORDER_WINDOW must not be negative")
	// Pull requests go out every PinnedTTL/2 (at least 1s).
	p.Check(c.PinnedTTL >= 2*time.Second, "BRIDGE_PINNED_TTL must be at least 2s, got %s", c.PinnedTTL)
	p.Check(c.NotFoundGrace >= 0, "BRIDGE_NOT_FOUND_GRACE must not be negative")
	p.Check(c.StatusQueue != "", "BRIDGE_STATUS_QUEUE is empty")
	p.Check(c.StatusTimeout > 0, "BRIDGE_STATUS_TIMEOUT must be positive")
	p.Check(c.StatusConcurrency >= 1, "BRIDGE_STATUS_CONCURRENCY must be positive")
	return p.Err()
}
