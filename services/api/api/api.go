// Package api is the API service's one public package: Config (config.go:
// the environment variables, their defaults and Validate) and Run (api.go),
// which wires internal/adapters, internal/app and internal/ports on the
// connections it is given and serves HTTP until its context ends. New
// builds the same HTTP app without serving it, so a test can mount it in
// process. cmd/api opens the connections and closes them.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/converter"

	"github.com/orderflow/orderflow/services/api/internal/adapters"
	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/services/api/internal/ports"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// Deps are the connections the app runs on; the caller opens and closes
// them (cmd/api, or a test).
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
	srv := ports.New(ports.Options{
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
	srv.Hooks().OnShutdown(func() error { authn.Close(); return nil })
	return srv, nil
}

// Run serves HTTP on deps until ctx ends, then stops intake: it stops
// accepting and finishes in-flight requests within cfg.Shutdown.Timeout.
// It neither opens nor closes deps' connections; the caller drains NATS and
// closes the pool once Run has returned.
func Run(ctx context.Context, cfg Config, deps Deps) error {
	srv, err := New(cfg, deps)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	deps.Log.Info("api listening", "addr", ln.Addr().String())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Listener(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}

	deps.Log.Info("api shutting down", "timeout", cfg.Shutdown.Timeout)
	if err := srv.ShutdownWithTimeout(cfg.Shutdown.Timeout); err != nil {
		deps.Log.Warn("http shutdown", "error", err)
	}
	<-serveErr
	return nil
}
