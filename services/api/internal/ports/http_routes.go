package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderflow/orderflow/services/api/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
)

// openAuth is the Authenticator of an API without keys.
type openAuth struct{}

func (openAuth) Enabled() bool { return false }
func (openAuth) Authenticate(context.Context, string) (app.Client, error) {
	return app.Client{}, app.ErrUnauthenticated
}

// Options are the HTTP knobs; package api fills them from its
// configuration.
type Options struct {
	BodyLimit       int
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	IdleTimeout     time.Duration
	RequestTimeout  time.Duration // bound on broker and database work per request
	WaitMax         time.Duration // cap of Prefer: wait
	RateLimitMax    int           // requests per window per client (per IP when unauthenticated); 0 disables
	RateLimitWindow time.Duration
	ProxyHeader     string    // header holding the client IP behind a proxy
	TrustedProxies  []string  // proxies allowed to set ProxyHeader
	Feed            EventFeed // live order events for the board; nil: /board/events answers 503
	// Metrics receives the HTTP metrics; nil keeps them unregistered.
	Metrics     prometheus.Registerer
	HeaderLimit int // bytes of request line and headers; 0 keeps Fiber's 4096-byte read buffer

	Auth Authenticator // nil: open (no authentication)
	// Codec decodes Temporal payloads for the Temporal UI at POST
	// /codec/decode (scope codec:decode); nil: no codec endpoint.
	Codec http.Handler
	// CodecCORSOrigins may call the codec endpoint from a browser (the
	// Temporal UI's origin).
	CodecCORSOrigins []string
}

// Check is one readiness check.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// handlers holds what the routes call.
type handlers struct {
	opts     Options
	auth     Authenticator
	commands *app.Commands
	queries  *app.Queries
	checks   []Check
	log      *slog.Logger
	now      func() time.Time
}

// New builds the Fiber app with every route and middleware.
func New(opts Options, commands *app.Commands, queries *app.Queries, checks []Check, log *slog.Logger) *fiber.App {
	if opts.Auth == nil {
		opts.Auth = openAuth{}
	}
	h := &handlers{opts: opts, auth: opts.Auth, commands: commands, queries: queries, checks: checks, log: log, now: time.Now}
	srv := fiber.New(fiber.Config{
		ReadBufferSize:          opts.HeaderLimit,
		AppName:                 "orderflow-api",
		BodyLimit:               opts.BodyLimit,
		ReadTimeout:             opts.ReadTimeout,
		WriteTimeout:            opts.WriteTimeout,
		IdleTimeout:             opts.IdleTimeout,
		ErrorHandler:            errorHandler(log),
		JSONEncoder:             encodeJSON,
		DisableStartupMessage:   true,
		ProxyHeader:             opts.ProxyHeader,
		EnableTrustedProxyCheck: len(opts.TrustedProxies) > 0,
		TrustedProxies:          opts.TrustedProxies,
	})
	srv.Use(newObserver(opts.Metrics).middleware)
	srv.Use(requestid.New())
	srv.Use(requestLogger(log))
	srv.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		log.Error("panic in handler", "path", c.Path(), "panic", e)
	}}))

	srv.Get("/healthz", h.healthz)
	srv.Get("/readyz", h.readyz)
	mountDocs(srv)

	srv.Use(identify(h.auth))
	if opts.RateLimitMax > 0 {
		srv.Use(limiter.New(limiter.Config{
			Max:          opts.RateLimitMax,
			Expiration:   opts.RateLimitWindow,
			KeyGenerator: rateKey,
			LimitReached: func(c *fiber.Ctx) error {
				return fiber.NewError(fiber.StatusTooManyRequests,
					"too many requests from this client; retry after the Retry-After delay")
			},
		}))
	}
	write, approve, read := h.require(app.ScopeWrite), h.require(app.ScopeApprove), h.require(app.ScopeRead)
	srv.Post("/orders/:order_id/start", write, h.start)
	srv.Post("/orders/:order_id/signals/cancel", write, h.signalAs(contracts.CommandCancel))
	srv.Post("/orders/:order_id/signals/update-address", write, h.signalAs(contracts.CommandUpdateAddress))
	srv.Post("/orders/:order_id/signals/approve", approve, h.signalAs(contracts.CommandApprove))
	// Any other signal name: authenticated callers learn it does not exist.
	srv.Post("/orders/:order_id/signals/:signal", h.require(""), h.signal)
	srv.Get("/orders/:order_id/status", read, h.status)
	srv.Get("/orders/:order_id/events", read, h.events)
	srv.Get("/orders/:order_id", read, h.order)
	srv.Get("/orders", read, h.list)
	// The board: its page and assets hold no data; its live stream is a
	// read route like the ones above, filtered by owner.
	mountBoardPage(srv)
	srv.Get("/board/events", read, h.boardEvents)
	if opts.Codec != nil {
		mountCodec(srv, opts, h.require(app.ScopeCodec))
	}
	return srv
}

// encodeJSON is encoding/json without HTML escaping, so URLs in bodies
// (next_url) read as they are.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// requestID returns the ID the requestid middleware assigned.
func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(requestid.ConfigDefault.ContextKey).(string); ok {
		return id
	}
	return ""
}

// requestLogger logs one line per request after the error handler has
// decided the status, with the order ID when the route has one.
func requestLogger(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		status := c.Response().StatusCode()
		level := slog.LevelInfo
		if status >= fiber.StatusInternalServerError {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("method", c.Method()), slog.String("path", c.Path()), slog.Int("status", status),
			slog.Duration("duration", time.Since(start)), slog.String("ip", c.IP()),
			slog.String("request_id", requestID(c)),
		}
		if id := c.Params("order_id"); id != "" {
			attrs = append(attrs, slog.String("order_id", id))
		}
		log.LogAttrs(c.UserContext(), level, "http request", attrs...)
		return nil
	}
}

// withTimeout bounds the work of one request: Fiber does not cancel the
// request context when the client goes away, so every request gets its own
// deadline.
func (h *handlers) withTimeout(c *fiber.Ctx, extra time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.UserContext(), h.opts.RequestTimeout+extra)
}
