package projector_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// testConfig is the production default configuration pointed at e.
func testConfig(t testing.TB, e *testenv.Env) projector.Config {
	t.Helper()
	cfg, err := config.Load[projector.Config]()
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.NATS.URL = e.NATS.URL
	cfg.Postgres.URL = e.DBURL
	return cfg
}

// newDeps opens the connections one Run or Rebuild needs, as
// cmd/projector does, and closes them when the test ends.
func newDeps(t testing.TB, cfg projector.Config, pool *pgxpool.Pool) projector.Deps {
	t.Helper()
	conn := func() *nats.Conn {
		nc, err := natsx.Connect(cfg.NATS, "projector-test", testenv.Logger(t))
		if err != nil {
			t.Fatalf("connect nats: %v", err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	return projector.Deps{NATS: conn(), Subscriber: conn(), Pool: pool}
}

// startProjector runs projector.Run until the test ends and checks that it
// shut down cleanly.
func startProjector(t testing.TB, cfg projector.Config, pool *pgxpool.Pool) {
	t.Helper()
	deps := newDeps(t, cfg, pool)
	run := testenv.Go(t, func(ctx context.Context) error { return projector.Run(ctx, cfg, deps, testenv.Logger(t)) })
	t.Cleanup(func() {
		if err := run.Stop(30 * time.Second); err != nil {
			t.Errorf("projector.Run: %v", err)
		}
	})
}

// publish sends events with natsx.EventMsg; with dupes each event is sent
// a second time under a different Nats-Msg-Id, so the broker cannot drop
// it and the projector really sees it twice.
func publish(t testing.TB, js jetstream.JetStream, events []contracts.Event, dupes bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ev := range events {
		copies := 1
		if dupes {
			copies = 2
		}
		for c := range copies {
			m, err := natsx.EventMsg(ev)
			if err != nil {
				t.Fatal(err)
			}
			if c > 0 {
				m.Header.Set(contracts.HeaderMsgID, ev.ID+"#redelivery-"+strconv.Itoa(c))
			}
			if _, err := js.PublishMsgAsync(m); err != nil {
				t.Fatalf("publish %s: %v", ev.ID, err)
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatalf("publish: %v", ctx.Err())
	}
}

// waitConsumed waits until the durable consumer has acknowledged every
// message in ORDER_EVENTS: each delivery, duplicates included, was handled.
func waitConsumed(t testing.TB, js jetstream.JetStream, durable string) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, 90*time.Second, func() (bool, string) {
		what := "consumer " + durable + " to ack the whole stream"
		s, err := js.Stream(ctx, contracts.StreamEvents)
		if err != nil {
			return false, what + ": " + err.Error()
		}
		c, err := js.Consumer(ctx, contracts.StreamEvents, durable)
		if err != nil {
			return false, what + ": " + err.Error()
		}
		info, err := c.Info(ctx)
		if err != nil {
			return false, what + ": " + err.Error()
		}
		return info.AckFloor.Stream >= s.CachedInfo().State.LastSeq && info.NumAckPending == 0, what
	})
}

func countEvents(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var n int
	err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n)
	return n, err
}

// tables is the projection as canonical JSON: every column of orders and
// every column of events except projected_at (the wall clock of the write).
type tables struct{ orders, events string }

func dump(t testing.TB, pool *pgxpool.Pool) tables {
	t.Helper()
	ctx := context.Background()
	var d tables
	if err := pool.QueryRow(ctx, `SELECT coalesce(jsonb_agg(to_jsonb(o) ORDER BY o.order_id), '[]')::text FROM orders o`).Scan(&d.orders); err != nil {
		t.Fatalf("dump orders: %v", err)
	}
	if err := pool.QueryRow(ctx, `SELECT coalesce(jsonb_agg(to_jsonb(e) - 'projected_at' ORDER BY e.event_id), '[]')::text FROM events e`).Scan(&d.events); err != nil {
		t.Fatalf("dump events: %v", err)
	}
	return d
}

func assertSameTables(t testing.TB, want, got tables, label string) {
	t.Helper()
	if want.orders != got.orders {
		t.Errorf("%s: orders table differs\nwant %.2000s\ngot  %.2000s", label, want.orders, got.orders)
	}
	if want.events != got.events {
		t.Errorf("%s: events table differs\nwant %.2000s\ngot  %.2000s", label, want.events, got.events)
	}
}

// project publishes events into a fresh env, runs the projector with cfg
// changes applied, waits until the whole stream is consumed, and returns
// the env for further checks.
func project(t testing.TB, events []contracts.Event, dupes bool, tweak func(*projector.Config)) *testenv.Env {
	t.Helper()
	e := testenv.New(t)
	cfg := testConfig(t, e)
	if tweak != nil {
		tweak(&cfg)
	}
	publish(t, e.JS, events, dupes)
	startProjector(t, cfg, e.Pool)
	waitConsumed(t, e.JS, cfg.Durable)
	return e
}

// reference projects w once, in order, one event per transaction: the
// simplest possible run, against which the others are compared.
func reference(t testing.TB, w workload) tables {
	t.Helper()
	e := project(t, w.all, false, func(c *projector.Config) { c.BatchSize = 1; c.Concurrency = 1 })
	return dump(t, e.Pool)
}

// dlqMessages reads everything dead-lettered so far.
func dlqMessages(t testing.TB, js jetstream.JetStream) []jetstream.Msg {
	t.Helper()
	return testenv.ReadStream(t, js, contracts.StreamDLQ, contracts.DLQEvents)
}
