// Package logging builds the slog logger every service uses and the keys it
// logs with, so order ID and workflow ID are spelled the same everywhere.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/shared/config"
)

// Attribute keys shared by every service.
const (
	KeyService    = "service"
	KeyOrderID    = "order_id"
	KeyWorkflowID = "workflow_id"
	KeyCommandID  = "command_id"
	KeyEventID    = "event_id"
	KeyStep       = "step"
	KeyAttempt    = "attempt"
	KeyError      = "error"
	KeyTraceID    = "trace_id"
	KeySpanID     = "span_id"
)

// New returns a logger writing to stderr in the configured format.
func New(service string, cfg config.Log) *slog.Logger {
	return NewTo(os.Stderr, service, cfg)
}

// NewTo is New with an explicit writer (tests).
func NewTo(w io.Writer, service string, cfg config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Level}
	var h slog.Handler
	if cfg.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(TraceHandler{h}).With(KeyService, service)
}

// TraceHandler adds trace_id and span_id to every record logged with a
// context that carries a span (log.InfoContext and friends), so a log line
// leads to its trace and back.
type TraceHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h TraceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String(KeyTraceID, sc.TraceID().String()), slog.String(KeySpanID, sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler, keeping the wrapper.
func (h TraceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return TraceHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler, keeping the wrapper.
func (h TraceHandler) WithGroup(name string) slog.Handler {
	return TraceHandler{h.Handler.WithGroup(name)}
}

// Err is a uniform error attribute.
func Err(err error) slog.Attr { return slog.Any(KeyError, err) }
