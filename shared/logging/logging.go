// Package logging builds the slog logger every service uses and the keys it
// logs with, so order ID and workflow ID are spelled the same everywhere.
package logging

import (
	"io"
	"log/slog"
	"os"

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
	return slog.New(h).With(KeyService, service)
}

// Err is a uniform error attribute.
func Err(err error) slog.Attr { return slog.Any(KeyError, err) }
