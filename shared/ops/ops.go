// Package ops is the operations listener every service runs beside its real
// work: Prometheus metrics, liveness and readiness on a port of its own, so
// probes and scrapes never compete with (or are rate-limited like) traffic
// (ops.go); the readiness checks and consumer-lag metrics of each
// dependency (deps.go); OpenTelemetry tracing and the Temporal SDK's
// metrics, and Run, which app.Serve starts a service with (telemetry.go).
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every orderflow metric.
const Namespace = "orderflow"

// Off disables the listener when given as its address.
const Off = "off"

// CheckTimeout bounds one readiness check, so a hung dependency makes
// /readyz answer 503 instead of hanging the probe.
const CheckTimeout = 2 * time.Second

// Check is one readiness check: a dependency the service cannot work without.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Server holds a service's metric registry and readiness checks and serves
// them over HTTP.
type Server struct {
	service string
	reg     *prometheus.Registry
	log     *slog.Logger

	mu     sync.Mutex
	checks []Check

	srv      *http.Server
	served   chan error
	draining chan struct{}
	once     sync.Once
}

// New returns a server for service with the Go runtime and process
// collectors registered. Nothing listens until Start.
func New(service string, log *slog.Logger) *Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Server{service: service, reg: reg, log: log, draining: make(chan struct{})}
}

// Registry is where the service registers its metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// AddCheck adds a readiness check; /readyz runs them all on each probe.
func (s *Server) AddCheck(name string, check func(ctx context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, Check{Name: name, Check: check})
}

// Handler serves /metrics, /livez and /readyz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
}

// readyz answers 200 when every check passes, 503 naming the failures
// otherwise, and 503 once shutdown has begun so traffic moves elsewhere.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	select {
	case <-s.draining:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintln(w, "shutting down")
		return
	default:
	}
	s.mu.Lock()
	checks := append([]Check(nil), s.checks...)
	s.mu.Unlock()
	type result struct {
		name string
		err  error
	}
	results := make([]result, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), CheckTimeout)
			defer cancel()
			results[i] = result{c.Name, c.Check(ctx)}
		})
	}
	wg.Wait()
	var lines []string
	failed := false
	for _, res := range results {
		if res.err != nil {
			failed = true
			lines = append(lines, fmt.Sprintf("%s: %v", res.name, res.err))
		} else {
			lines = append(lines, res.name+": ok")
		}
	}
	if failed {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = fmt.Fprintln(w, strings.Join(lines, "\n"))
}

// Start listens on addr (Off or "" disables the listener) and serves in the
// background. It fails at once when the port is taken, so a collision is
// reported at startup rather than as a missing scrape target.
func (s *Server) Start(addr string) error {
	if addr == "" || addr == Off {
		s.log.Info("ops listener disabled")
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ops listener on %s: %w", addr, err)
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	s.served = make(chan error, 1)
	go func() { s.served <- s.srv.Serve(ln) }()
	s.log.Info("ops listening", "addr", ln.Addr().String(), "paths", "/metrics /livez /readyz")
	return nil
}

// Drain makes /readyz answer 503 from now on, while /metrics and /livez keep
// answering during the rest of the shutdown.
func (s *Server) Drain() { s.once.Do(func() { close(s.draining) }) }

// Shutdown drains, then stops the listener, waiting at most until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("ops shutdown: %w", err)
	}
	return nil
}

// Around starts the listener on addr, runs run, and shuts the listener down
// after run has returned (bounded by timeout), so metrics stay scrapable
// while the service drains; /readyz turns 503 as soon as ctx ends.
func (s *Server) Around(ctx context.Context, addr string, timeout time.Duration, run func(context.Context) error) error {
	if err := s.Start(addr); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, s.Drain)
	defer stop()
	runErr := run(ctx)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		s.log.Warn("ops listener shutdown", "error", err)
	}
	return runErr
}
