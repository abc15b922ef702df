package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/shared/ops"
)

// Conns are the connections a main opened. Each is added right after it
// is opened; Close lets go of them last added first, so a service opens
// what its work writes to (PostgreSQL, Temporal) before its intake (NATS)
// and its intake is drained before those close. In a service (Serve) each
// is also a readiness check on /readyz.
type Conns struct {
	timeout time.Duration
	log     *slog.Logger
	ready   *ops.Server // nil in a one-shot command: no readiness checks
	closers []closer
}

type closer struct {
	name  string
	close func()
}

// NewConns returns an empty list whose closes each take at most timeout.
func NewConns(timeout time.Duration, log *slog.Logger) *Conns {
	return &Conns{timeout: timeout, log: log}
}

// AddNATS drains nc on the way out (DrainNATS), after everything added
// later has closed; /readyz reports it as "nats".
func (c *Conns) AddNATS(nc *nats.Conn) {
	c.check("nats", ops.NATSCheck(nc))
	c.addDrain("nats", nc)
}

// AddNATSSubscriber drains nc on the way out like AddNATS, without a
// readiness check of its own: for a second connection to the same server
// that a consumer owns (the projector's Watermill subscriber).
func (c *Conns) AddNATSSubscriber(nc *nats.Conn) {
	c.addDrain("nats subscriber", nc)
}

func (c *Conns) addDrain(name string, nc *nats.Conn) {
	c.closers = append(c.closers, closer{name, func() { DrainNATS(nc, c.timeout, c.log) }})
}

// AddPostgres closes pool on the way out, within the timeout: a pool
// waiting for a connection nobody returns cannot hold up the exit.
// /readyz pings it as "postgres".
func (c *Conns) AddPostgres(pool *pgxpool.Pool) {
	c.check("postgres", ops.PostgresCheck(pool))
	c.closers = append(c.closers, closer{"postgres", func() {
		if !CloseWithin(c.timeout, pool.Close) {
			c.log.Warn("postgres pool did not close in time", "timeout", c.timeout)
		}
	}})
}

// AddTemporal closes the Temporal client on the way out, within the
// timeout; /readyz asks the frontend's health as "temporal".
func (c *Conns) AddTemporal(tc client.Client) {
	c.check("temporal", ops.TemporalCheck(tc))
	c.closers = append(c.closers, closer{"temporal", func() {
		if !CloseWithin(c.timeout, tc.Close) {
			c.log.Warn("temporal client did not close in time", "timeout", c.timeout)
		}
	}})
}

func (c *Conns) check(name string, check func(ctx context.Context) error) {
	if c.ready != nil {
		c.ready.AddCheck(name, check)
	}
}

// Close closes every connection, last added first, each within the
// timeout, and logs the order it closed them in. It is meant to run once,
// after the work on them has returned; a second call closes nothing.
func (c *Conns) Close() {
	names := make([]string, 0, len(c.closers))
	for i := len(c.closers) - 1; i >= 0; i-- {
		c.closers[i].close()
		names = append(names, c.closers[i].name)
	}
	c.closers = nil
	if len(names) > 0 {
		c.log.Info("connections closed", "order", strings.Join(names, ", "))
	}
}

// DrainNATS drains nc (subscriptions stop taking messages, what is pending
// is delivered and flushed) and waits up to timeout for it to close, then
// closes it anyway. A connection that is already draining (Watermill's
// subscriber drains its own) or closed is waited for the same way, so main
// may drain every connection it opened whatever happened to it.
func DrainNATS(nc *nats.Conn, timeout time.Duration, log *slog.Logger) {
	closed := nc.StatusChanged(nats.CLOSED)
	defer nc.RemoveStatusListener(closed)
	if err := nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		log.Warn("drain nats", "error", err)
		nc.Close()
		return
	}
	if nc.IsClosed() {
		return
	}
	select {
	case <-closed:
	case <-time.After(timeout):
		log.Warn("nats drain timed out", "timeout", timeout)
		nc.Close()
	}
}

// CloseWithin runs closeFn and waits at most timeout for it, so a close
// that blocks (a pool waiting for a connection nobody returns) cannot hold
// up the exit. It reports whether closeFn finished in time.
func CloseWithin(timeout time.Duration, closeFn func()) bool {
	done := make(chan struct{})
	go func() { defer close(done); closeFn() }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}
