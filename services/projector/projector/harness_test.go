package projector_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// env is one isolated world: a private JetStream server and an empty
// database with the schema applied.
type env struct {
	ns    *testenv.NATSServer
	nc    *nats.Conn
	js    jetstream.JetStream
	dbURL string
	pool  *pgxpool.Pool
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ns := testenv.NATS(t)
	nc := ns.Conn()
	e := &env{ns: ns, nc: nc, js: ns.JetStream(nc), dbURL: testenv.Postgres(t)}
	e.pool = newPool(t, e.dbURL)
	return e
}

func newPool(t testing.TB, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func testLogger(t testing.TB) *slog.Logger {
	var w io.Writer = io.Discard
	if tt, ok := t.(*testing.T); ok && testing.Verbose() {
		w = tt.Output()
	}
	return logging.NewTo(w, "projector", config.Log{Level: slog.LevelWarn})
}

// testConfig is the production default configuration pointed at e.
func testConfig(t testing.TB, e *env) projector.Config {
	t.Helper()
	cfg, err := config.Load[projector.Config]()
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.NATS.URL = e.ns.URL
	cfg.Postgres.URL = e.dbURL
	return cfg
}

// newDeps opens the connections one Run or Rebuild needs, as
// cmd/projector does, and closes them when the test ends.
func newDeps(t testing.TB, cfg projector.Config, pool *pgxpool.Pool) projector.Deps {
	t.Helper()
	conn := func() *nats.Conn {
		nc, err := natsx.Connect(cfg.NATS, "projector-test", testLogger(t))
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- projector.Run(ctx, cfg, deps, testLogger(t)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("projector.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("projector.Run did not return after cancel")
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

// waitFor polls cond until it holds or the timeout expires.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok && err == nil {
			return
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, last)
}

// waitConsumed waits until the durable consumer has acknowledged every
// message in ORDER_EVENTS: each delivery, duplicates included, was handled.
func waitConsumed(t testing.TB, js jetstream.JetStream, durable string) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, 90*time.Second, "consumer "+durable+" to ack the whole stream", func() (bool, error) {
		s, err := js.Stream(ctx, contracts.StreamEvents)
		if err != nil {
			return false, err
		}
		c, err := js.Consumer(ctx, contracts.StreamEvents, durable)
		if err != nil {
			return false, err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return false, err
		}
		return info.AckFloor.Stream >= s.CachedInfo().State.LastSeq && info.NumAckPending == 0, nil
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
func project(t testing.TB, events []contracts.Event, dupes bool, tweak func(*projector.Config)) *env {
	t.Helper()
	e := newEnv(t)
	cfg := testConfig(t, e)
	if tweak != nil {
		tweak(&cfg)
	}
	publish(t, e.js, events, dupes)
	startProjector(t, cfg, e.pool)
	waitConsumed(t, e.js, cfg.Durable)
	return e
}

// reference projects w once, in order, one event per transaction: the
// simplest possible run, against which the others are compared.
func reference(t testing.TB, w workload) tables {
	t.Helper()
	e := project(t, w.all, false, func(c *projector.Config) { c.BatchSize = 1; c.Concurrency = 1 })
	return dump(t, e.pool)
}

// dlqMessages reads everything dead-lettered so far.
func dlqMessages(t testing.TB, js jetstream.JetStream) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, contracts.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	n := s.CachedInfo().State.Msgs
	if n == 0 {
		return nil
	}
	c, err := js.OrderedConsumer(ctx, contracts.StreamDLQ, jetstream.OrderedConsumerConfig{FilterSubjects: []string{contracts.DLQEvents}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.FetchNoWait(int(n))
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for m := range batch.Messages() {
		out = append(out, m)
	}
	return out
}

// pgProxy is a TCP proxy in front of PostgreSQL that a test can cut: Stop
// closes the listening port and every open connection, so the projector
// sees exactly what it would see if the database went down.
type pgProxy struct {
	t      testing.TB
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newPGProxy(t testing.TB, dbURL string) (*pgProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{t: t, target: u.Host, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.Start()
	t.Cleanup(p.Stop)
	u.Host = p.addr
	return p, u.String()
}

func (p *pgProxy) Start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
}

func (p *pgProxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // stopped meanwhile
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go pipe(client, server)
		go pipe(server, client)
	}
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (p *pgProxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
}
