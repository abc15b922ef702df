package app

import (
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

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
