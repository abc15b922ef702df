// Package stack runs the whole of orderflow in process for integration
// tests: the API (on a loopback port), the bridge, both workers and the
// projector, on a private embedded NATS server, a fresh PostgreSQL database
// and the test binary's Temporal dev server, with task queues of their own.
// Everything is the real service code; nothing is mocked.
package stack

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/services/bridge/bridge"
	orderworker "github.com/orderflow/orderflow/services/order-worker/order"
	"github.com/orderflow/orderflow/services/projector/projector"
	shippingworker "github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/testenv"
)

// Stack is one running system.
type Stack struct {
	APIURL       string // http://127.0.0.1:<port>
	NATS         *testenv.NATSServer
	NC           *nats.Conn
	JS           jetstream.JetStream
	DBURL        string
	Pool         *pgxpool.Pool
	Temporal     client.Client
	TemporalAddr string
	Queues       config.Temporal // the private task queues
	Log          *slog.Logger
}

// Options adjust a stack before it starts.
type Options struct {
	// API adjusts the API's configuration (its NATS and database are set).
	API func(*api.Config)
	// NoAPI leaves the API out, for tests of the NATS side only.
	NoAPI bool
	// Faults makes every business step fail or hang at these rates, with a
	// fixed seed so a run is reproducible; zero: no faults.
	Faults faults.Config
}

// Start runs every service until the test ends; t's cleanup stops them in
// reverse order and reports a service that failed.
func Start(t testing.TB, opts Options) *Stack {
	t.Helper()
	ns := testenv.NATS(t)
	s := &Stack{NATS: ns, NC: ns.Conn(), DBURL: testenv.Postgres(t), TemporalAddr: testenv.Temporal(t), Log: Logger(t)}
	s.JS = ns.JetStream(s.NC)
	var err error
	if s.Pool, err = pgxpool.New(context.Background(), s.DBURL); err != nil {
		t.Fatalf("stack: pool: %v", err)
	}
	t.Cleanup(s.Pool.Close)
	if s.Temporal, err = client.Dial(client.Options{HostPort: s.TemporalAddr, Logger: tlog.NewStructuredLogger(s.Log)}); err != nil {
		t.Fatalf("stack: dial temporal: %v", err)
	}
	t.Cleanup(s.Temporal.Close)

	tcfg := load[bridge.Config](t).Temporal
	tcfg.Address = s.TemporalAddr
	tcfg.OrdersTaskQueue = testenv.UniqueName("orders")
	tcfg.ShippingTaskQueue = testenv.UniqueName("shipping")
	s.Queues = tcfg

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("stack: %s: %v", name, err)
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })

	ocfg := load[orderworker.Config](t)
	ocfg.Temporal, ocfg.NATS.URL, ocfg.Postgres.URL = tcfg, ns.URL, s.DBURL
	ocfg.Shutdown.Timeout = 5 * time.Second
	ocfg.Faults = opts.Faults
	run("order worker", func(ctx context.Context) error {
		return orderworker.RunWorker(ctx, ocfg, s.Temporal, s.Pool, s.JS, s.Log)
	})
	scfg := load[shippingworker.Config](t)
	scfg.Temporal = tcfg
	scfg.Shutdown.Timeout = 5 * time.Second
	scfg.Faults = opts.Faults
	run("shipping worker", func(ctx context.Context) error { return shippingworker.RunWorker(ctx, scfg, s.Temporal, s.Pool, s.Log) })

	bcfg := load[bridge.Config](t)
	bcfg.Temporal, bcfg.NATS.URL = tcfg, ns.URL
	run("bridge", func(ctx context.Context) error {
		return bridge.Run(ctx, bcfg, bridge.Deps{NATS: s.NC, Temporal: s.Temporal}, s.Log)
	})

	pcfg := load[projector.Config](t)
	pcfg.NATS.URL, pcfg.Postgres.URL = ns.URL, s.DBURL
	// The projector's subscriber drains its own connection when it stops.
	pdeps := projector.Deps{NATS: s.NC, Subscriber: ns.Conn(), Pool: s.Pool}
	run("projector", func(ctx context.Context) error { return projector.Run(ctx, pcfg, pdeps, s.Log) })

	if !opts.NoAPI {
		s.startAPI(t, opts.API)
	}
	return s
}

func (s *Stack) startAPI(t testing.TB, mutate func(*api.Config)) {
	t.Helper()
	cfg := load[api.Config](t)
	cfg.NATS.URL, cfg.Postgres.URL = s.NATS.URL, s.DBURL
	cfg.RateLimitMax = 0
	if mutate != nil {
		mutate(&cfg)
	}
	app, err := api.New(cfg, api.Deps{NATS: s.NC, DB: s.Pool, Log: s.Log})
	if err != nil {
		t.Fatalf("stack: api: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("stack: listen: %v", err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	s.APIURL = "http://" + ln.Addr().String()
	WaitFor(t, "API ready", 15*time.Second, func() bool {
		res, err := http.Get(s.APIURL + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}

// load is a service's default configuration (environment applied).
func load[T any](t testing.TB) T {
	t.Helper()
	cfg, err := config.Load[T]()
	if err != nil {
		t.Fatalf("stack: config: %v", err)
	}
	return cfg
}

// Logger shows warnings and errors in verbose runs and stays quiet otherwise.
func Logger(t testing.TB) *slog.Logger {
	var w io.Writer = io.Discard
	if tt, ok := t.(*testing.T); ok && testing.Verbose() {
		w = tt.Output()
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// WaitFor polls cond every 25 ms until it holds or d passes.
func WaitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// OrderState is the projected state of an order ("" when not projected yet).
func (s *Stack) OrderState(t testing.TB, orderID string) string {
	t.Helper()
	var state string
	err := s.Pool.QueryRow(context.Background(), "SELECT state FROM orders WHERE order_id = $1", orderID).Scan(&state)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("stack: order state: %v", err)
	}
	return state
}
