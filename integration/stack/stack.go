// Package stack runs the whole of orderflow in process for integration
// tests: the API (on a loopback port), the bridge, both workers and the
// projector, on a private embedded NATS server, a fresh PostgreSQL database
// and the test binary's Temporal dev server, with task queues of their own.
// Everything is the real service code; nothing is mocked.
package stack

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	orderflow "github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/services/bridge/bridge"
	orderworker "github.com/orderflow/orderflow/services/order-worker/order"
	"github.com/orderflow/orderflow/services/projector/projector"
	shippingworker "github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/testenv"
)

// Stack is one running system on one test's infrastructure (testenv.Env).
type Stack struct {
	*testenv.Env
	APIURL       string // http://127.0.0.1:<port>
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
	s := &Stack{Env: testenv.New(t), TemporalAddr: testenv.Temporal(t), Log: testenv.Logger(t)}
	ns := s.NATS
	s.Temporal = testenv.TemporalClient(t, s.TemporalAddr, s.Log)

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
	testenv.Eventually(t, 15*time.Second, func() (bool, string) {
		res, err := http.Get(s.APIURL + "/readyz")
		if err != nil {
			return false, "API not ready: " + err.Error()
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK, "API not ready: " + res.Status
	})
}

// Client is the orderflow client (package client) on the stack's NATS
// connection, as an outside system would use it.
func (s *Stack) Client(t testing.TB) *orderflow.Client {
	t.Helper()
	c, err := orderflow.New(s.NC)
	if err != nil {
		t.Fatalf("stack: client: %v", err)
	}
	return c
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
