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
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/converter"

	"github.com/orderflow/orderflow/services/api/internal/adapters"
	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/services/api/internal/ports"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/temporalx"
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
	OpsAddr     string `env:"OPS_ADDR" envDefault:":9181"`
	HeaderLimit int    `env:"HTTP_HEADER_LIMIT" envDefault:"8192"`

	// Authentication: API keys, JWTs, or both; neither leaves the API open.
	APIKeysFile   string        `env:"API_KEYS_FILE"`
	AuthReload    time.Duration `env:"API_KEYS_RELOAD_INTERVAL" envDefault:"2s"`
	JWKSFile      string        `env:"JWT_JWKS_FILE"`
	JWKSURL       string        `env:"JWT_JWKS_URL"`
	JWTIssuer     string        `env:"JWT_ISSUER"`
	JWTAudience   string        `env:"JWT_AUDIENCE"`
	AllowOpen     bool          `env:"API_ALLOW_OPEN" envDefault:"true"`
	CodecKeysFile string        `env:"TEMPORAL_CODEC_KEYS_FILE"`
	CodecCORS     []string      `env:"CODEC_CORS_ORIGINS"`
}

// AuthEnabled reports whether any credential source is configured.
func (c Config) AuthEnabled() bool {
	return c.APIKeysFile != "" || c.JWKSFile != "" || c.JWKSURL != ""
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
	case c.HeaderLimit < 1024:
		return fmt.Errorf("HTTP_HEADER_LIMIT %d is below 1024 bytes", c.HeaderLimit)
	case c.ReadTimeout <= 0:
		return errors.New("HTTP_READ_TIMEOUT must be positive, or a slow client holds a connection forever")
	case !c.AllowOpen && !c.AuthEnabled():
		return errors.New("API_ALLOW_OPEN=false needs API_KEYS_FILE, JWT_JWKS_FILE or JWT_JWKS_URL")
	case c.JWKSFile != "" && c.JWKSURL != "":
		return errors.New("set JWT_JWKS_FILE or JWT_JWKS_URL, not both")
	case c.AuthEnabled() && c.AuthReload <= 0:
		return errors.New("API_KEYS_RELOAD_INTERVAL must be positive")
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

// New builds the HTTP app on deps. The credential files are watched until
// the app shuts down.
func New(cfg Config, deps Deps) (*fiber.App, error) {
	bus, err := adapters.NewBus(deps.NATS, cfg.StatusTimeout, deps.Log, deps.Metrics)
	if err != nil {
		return nil, err
	}
	authn, err := adapters.NewAuthenticator(adapters.AuthOptions{
		KeysFile: cfg.APIKeysFile, ReloadInterval: cfg.AuthReload,
		JWKSFile: cfg.JWKSFile, JWKSURL: cfg.JWKSURL, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
	}, deps.Log)
	if err != nil {
		return nil, fmt.Errorf("authentication: %w", err)
	}
	if !authn.Enabled() {
		deps.Log.Warn("!!! AUTHENTICATION IS OFF: no API_KEYS_FILE or JWKS configured; anyone who reaches this port " +
			"can start, cancel and approve every order and read every address. Set API_KEYS_FILE outside local development. !!!")
	} else {
		deps.Log.Info("authentication on", "keys_file", cfg.APIKeysFile, "jwks_file", cfg.JWKSFile, "jwks_url", cfg.JWKSURL)
	}
	var codec http.Handler
	switch {
	case cfg.CodecKeysFile != "" && !authn.Enabled():
		// Decoding for anyone would undo the encryption.
		deps.Log.Warn("TEMPORAL_CODEC_KEYS_FILE is set but authentication is off: /codec/decode is not served")
	case cfg.CodecKeysFile != "":
		c, err := temporalx.LoadCodec(cfg.CodecKeysFile)
		if err != nil {
			authn.Close()
			return nil, err
		}
		codec = converter.NewPayloadCodecHTTPHandler(c)
	}
	store := adapters.NewStore(deps.DB)
	queries := app.NewQueries(bus, store, deps.Log)
	commands := app.NewCommands(bus, queries, deps.Log)
	checks := []ports.Check{{Name: "nats", Check: bus.Ready}, {Name: "postgres", Check: store.Ready}}
	app := ports.New(ports.Options{
		BodyLimit:        cfg.BodyLimit,
		ReadTimeout:      cfg.ReadTimeout,
		WriteTimeout:     cfg.WriteTimeout,
		IdleTimeout:      cfg.IdleTimeout,
		RequestTimeout:   cfg.RequestTimeout,
		WaitMax:          cfg.WaitMax,
		RateLimitMax:     cfg.RateLimitMax,
		RateLimitWindow:  cfg.RateLimitWindow,
		ProxyHeader:      cfg.ProxyHeader,
		TrustedProxies:   cfg.TrustedProxies,
		Feed:             adapters.NewFeed(bus.JetStream(), deps.Log),
		HeaderLimit:      cfg.HeaderLimit,
		Auth:             authn,
		Codec:            codec,
		CodecCORSOrigins: cfg.CodecCORS,
		Metrics:          deps.Metrics,
	}, commands, queries, checks, deps.Log)
	app.Hooks().OnShutdown(func() error { authn.Close(); return nil })
	return app, nil
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
	nc, _, err := natsx.ConnectJetStream(ctx, cfg.NATS, "orderflow-api", log, contracts.StreamCommands, contracts.StreamResults)
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
