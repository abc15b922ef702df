package config

import (
	"errors"
	"fmt"
)

// Problems collects what is wrong with a configuration, so one start names
// every mistake instead of one per restart. Each service's Validate adds
// its own checks and the Validate of the shared pieces its Run uses
// (Temporal, Shutdown); the connection pieces (NATS, Postgres) are
// validated where they connect (natsx.Options, pgxx.Open), as tests hand
// Run connections of their own.
type Problems []error

// Check records the message when ok is false.
func (p *Problems) Check(ok bool, format string, args ...any) {
	if !ok {
		*p = append(*p, fmt.Errorf(format, args...))
	}
}

// Add records every non-nil err.
func (p *Problems) Add(errs ...error) {
	for _, err := range errs {
		if err != nil {
			*p = append(*p, err)
		}
	}
}

// Err is every problem joined, or nil when there is none.
func (p Problems) Err() error { return errors.Join(p...) }

// Validate rejects more than one identity; natsx.Options applies it too,
// for a Config built by hand.
func (n NATS) Validate() error {
	var p Problems
	ids := 0
	for _, set := range []bool{n.Creds != "", n.NKeySeedFile != "", n.User != ""} {
		if set {
			ids++
		}
	}
	p.Check(ids <= 1, "set only one of NATS_CREDS, NATS_NKEY_SEED_FILE and NATS_USER")
	return p.Err()
}

// Validate rejects a pool that could hold no connection. (An empty URL is
// valid: pgx then reads the PG* variables, as libpq does.)
func (pg Postgres) Validate() error {
	if pg.MaxConns < 1 {
		return fmt.Errorf("DATABASE_MAX_CONNS must be at least 1, got %d", pg.MaxConns)
	}
	return nil
}

// Validate rejects an empty task queue name: both have defaults, so an
// empty one was set by mistake, and a worker or a start on it would never
// meet the other side.
func (t Temporal) Validate() error {
	var p Problems
	p.Check(t.OrdersTaskQueue != "", "ORDERS_TASK_QUEUE is empty")
	p.Check(t.ShippingTaskQueue != "", "SHIPPING_TASK_QUEUE is empty")
	return p.Err()
}

// Validate rejects a timeout that leaves no time to drain.
func (s Shutdown) Validate() error {
	if s.Timeout <= 0 {
		return fmt.Errorf("SHUTDOWN_TIMEOUT must be positive, got %s", s.Timeout)
	}
	return nil
}
