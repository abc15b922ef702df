// Package server assembles the API service: configuration, adapters,
// application and HTTP port. Run is what the binary calls; New lets a test
// mount the same app in process against its own NATS and PostgreSQL.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderflow/orderflow/services/api/internal/httpapi"
	"github.com/orderflow/orderflow/services/api/internal/natsbus"
	"github.com/orderflow/orderflow/services/api/internal/orders"
	"github.com/orderflow/orderflow/services/api/internal/pgstore"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/pgxx"
)

// Config is the API's whole configuration, loaded once with config.Load.
type Config struct {
	config.Log
	config.NATS
	config.Postgres
	config.Shutdown

	HTTPAddr        string        `env:"HTTP_ADDR" envDefault:":8000"`
	BodyLimit       int           `env:"HTTP_BODY_LIMIT" envDefault:"65536"`
	ReadTimeout     time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"10s"`
	WriteTimeout    time.Duration `env:"HTTP_WRITE_TIMEOUT" envDefault:"45s"`
	IdleTimeout     time.Duration `env:"HTTP_IDLE_TIMEOUT" envDefault:"60s"`
	RequestTimeout  time.Duration `env:"HTTP_REQUEST_TIMEOUT" envDefault:"5s"`
	WaitMax         time.Duration `env:"PREFER_WAIT_MAX" envDefault:"30s"`
	StatusTimeout   time.Duration `env:"STATUS_TIMEOUT" envDefault:"750ms"`
	RateLimitMax    int           `env:"RATE_LIMIT_MAX" envDefault:"100"`
	RateLimitWindow time.Duration `env:"RATE_LIMIT_WINDOW" envDefault:"1s"`
	ProxyHeader     string        `env:"HTTP_PROXY_HEADER"`
	TrustedProxies  []string      `env:"HTTP_TRUSTED_PROXIES"`
	// OpsAddr serves /metrics, /livez and /readyz; "off" disables it.
	OpsAddr string `env:"OPS_ADDR" envDefault:":9181"`
}

// Validate rejects settings that would make requests fail in confusing
// ways later.
func (c Config) Validate() error {
	switch {
	case c.HTTPAddr == "":
		return errors.New("HTTP_ADDR is empty")
	case c.OpsAddr == c.HTTPAddr:
		return fmt.Errorf("OPS_ADDR and HTTP_ADDR are both %s; give the ops listener its own port", c.HTTPAddr)
	case c.BodyLimit < 1024:
		return fmt.Errorf("HTTP_BODY_LIMIT %d is below 1024 bytes", c.BodyLimit)
	case c.RequestTimeout <= 0 || c.StatusTimeout <= 0:
		return errors.New("HTTP_REQUEST_TIMEOUT and STATUS_TIMEOUT must be positive")
	case c.StatusTimeout >= c.RequestTimeout:
		return fmt.Errorf("STATUS_TIMEOUT %s must be below HTTP_REQUEST_TIMEOUT %s so the projection can still answer", c.StatusTimeout, c.RequestTimeout)
	case c.WaitMax < 0:
		return errors.New("PREFER_WAIT_MAX is negative")
	case c.WriteTimeout > 0 && c.WriteTimeout <= c.WaitMax+c.RequestTimeout:
		return fmt.Errorf("HTTP_WRITE_TIMEOUT %s must exceed PREFER_WAIT_MAX + HTTP_REQUEST_TIMEOUT", c.WriteTimeout)
	case c.RateLimitMax < 0:
		return errors.New("RATE_LIMIT_MAX is negative (0 disables rate limiting)")
	case c.RateLimitMax > 0 && c.RateLimitWindow <= 0:
		return errors.New("RATE_LIMIT_WINDOW must be positive")
	case c.ProxyHeader != "" && len(c.TrustedProxies) == 0:
		return errors.New("HTTP_PROXY_HEADER needs HTTP_TRUSTED_PROXIES, or any client could spoof its IP")
	}
	return nil
}

// Deps are the connections the app runs on; the caller owns and closes them.
type Deps struct {
	NATS *nats.Conn
	DB   *pgxpool.Pool
	Log  *slog.Logger
	// Metrics receives the API's metrics; nil leaves them unregistered.
	Metrics prometheus.Registerer
}

// New builds the HTTP app on deps.
func New(cfg Config, deps Deps) (*fiber.App, error) {
	bus, err := natsbus.New(deps.NATS, cfg.StatusTimeout, deps.Log, deps.Metrics)
	if err != nil {
		return nil, err
	}
	store := pgstore.New(deps.DB)
	commands := orders.NewCommands(bus, deps.Log)
	queries := orders.NewQueries(bus, store, deps.Log)
	checks := []httpapi.Check{{Name: "nats", Check: bus.Ready}, {Name: "postgres", Check: store.Ready}}
	return httpapi.New(httpapi.Options{
		BodyLimit:       cfg.BodyLimit,
		ReadTimeout:     cfg.ReadTimeout,
		WriteTimeout:    cfg.WriteTimeout,
		IdleTimeout:     cfg.IdleTimeout,
		RequestTimeout:  cfg.RequestTimeout,
		WaitMax:         cfg.WaitMax,
		RateLimitMax:    cfg.RateLimitMax,
		RateLimitWindow: cfg.RateLimitWindow,
		ProxyHeader:     cfg.ProxyHeader,
		TrustedProxies:  cfg.TrustedProxies,
		Feed:            natsbus.NewFeed(bus.JetStream(), deps.Log),
		Metrics:         deps.Metrics,
	}, commands, queries, checks, deps.Log), nil
}

// Run connects NATS and PostgreSQL, serves HTTP until ctx ends, then shuts
// down in order: stop accepting and finish in-flight requests, drain NATS,
// close the pool, all within cfg.Shutdown.Timeout.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	return ops.Run(ctx, "api", cfg.OpsAddr, cfg.Shutdown.Timeout, log, func(ctx context.Context, o *ops.Server, _ *ops.Telemetry) error {
		return serve(ctx, cfg, log, o)
	})
}

func serve(ctx context.Context, cfg Config, log *slog.Logger, o *ops.Server) error {
	nc, _, err := natsx.ConnectJetStream(ctx, cfg.NATS.URL, "orderflow-api", log)
	if err != nil {
		return err
	}
	defer nc.Close()

	pool, err := pgxx.Open(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close()

	o.AddCheck("nats", ops.NATSCheck(nc))
	o.AddCheck("postgres", ops.PostgresCheck(pool))
	app, err := New(cfg, Deps{NATS: nc, DB: pool, Log: log, Metrics: o.Registry()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	log.Info("api listening", "addr", ln.Addr().String())

	serveErr := make(chan error, 1)
	go func() { serveErr <- app.Listener(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}

	log.Info("api shutting down", "timeout", cfg.Shutdown.Timeout)
	deadline := time.Now().Add(cfg.Shutdown.Timeout)
	if err := app.ShutdownWithTimeout(cfg.Shutdown.Timeout); err != nil {
		log.Warn("http shutdown", "error", err)
	}
	<-serveErr
	drained := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(drained) })
	if err := nc.Drain(); err != nil {
		log.Warn("nats drain", "error", err)
	} else {
		select {
		case <-drained:
		case <-time.After(time.Until(deadline)):
			log.Warn("nats drain timed out")
		}
	}
	log.Info("api stopped")
	return nil
}
