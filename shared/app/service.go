package app

import (
	"context"
	"log/slog"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/ops"
)

// Service is what a long-running service's main works with inside Serve:
// its logger, its ops listener (metrics registry, readiness checks), its
// telemetry, and the list of connections it opened (Conns).
type Service struct {
	*Conns
	Log       *slog.Logger
	Ops       *ops.Server
	Telemetry *ops.Telemetry
}

// Serve is the shape every service's main shares: a logger named after the
// service, the ops listener on opsAddr with telemetry, then run, which
// opens the connections (adding each to s) and runs the service on them
// until ctx ends. Once run has returned, the connections close last opened
// first, each within shutdown.Timeout; the ops listener stops after them,
// so metrics stay scrapable while the service drains (/readyz answers 503
// from the signal on).
func Serve(ctx context.Context, name string, log config.Log, opsAddr string, shutdown config.Shutdown, run func(ctx context.Context, s *Service) error) error {
	logger := logging.New(name, log)
	return ops.Run(ctx, name, opsAddr, shutdown.Timeout, logger, func(ctx context.Context, srv *ops.Server, tel *ops.Telemetry) error {
		conns := NewConns(shutdown.Timeout, logger)
		conns.ready = srv
		defer conns.Close()
		return run(ctx, &Service{Conns: conns, Log: logger, Ops: srv, Telemetry: tel})
	})
}
