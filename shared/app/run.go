package app

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// Config is what Run needs of a service's configuration. Every service's
// Config embeds config.Log and config.Shutdown, which give LogSettings and
// ShutdownSettings; OpsAddress returns its OPS_ADDR, whose default differs
// from service to service.
type Config interface {
	LogSettings() config.Log
	ShutdownSettings() config.Shutdown
	OpsAddress() string
}

// Run is a long-running service's whole main: Main around loading C from
// the environment (config.Load) and serving it (Serve), so serve only opens
// the connections (adding each to s) and runs the service on them.
func Run[C Config](name string, serve func(ctx context.Context, cfg C, s *Service) error) {
	Main(name, func(ctx context.Context) error {
		cfg, err := config.Load[C]()
		if err != nil {
			return err
		}
		return Serve(ctx, name, cfg.LogSettings(), cfg.OpsAddress(), cfg.ShutdownSettings(), func(ctx context.Context, s *Service) error {
			return serve(ctx, cfg, s)
		})
	})
}

// OpenPostgres opens a pool on cfg (pgxx.Open) and adds it (AddPostgres).
func (c *Conns) OpenPostgres(ctx context.Context, cfg config.Postgres) (*pgxpool.Pool, error) {
	pool, err := pgxx.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.AddPostgres(pool)
	return pool, nil
}

// ConnectNATS connects to NATS as name (natsx.Connect) and adds the
// connection (AddNATS).
func (c *Conns) ConnectNATS(cfg config.NATS, name string) (*nats.Conn, error) {
	nc, err := natsx.Connect(cfg, name, c.log)
	if err != nil {
		return nil, err
	}
	c.AddNATS(nc)
	return nc, nil
}

// ConnectJetStream connects to NATS as name, waiting for the streams in
// check (natsx.ConnectJetStream), and adds the connection (AddNATS).
func (c *Conns) ConnectJetStream(ctx context.Context, cfg config.NATS, name string, check ...string) (*nats.Conn, jetstream.JetStream, error) {
	nc, js, err := natsx.ConnectJetStream(ctx, cfg, name, c.log, check...)
	if err != nil {
		return nil, nil, err
	}
	c.AddNATS(nc)
	return nc, js, nil
}

// DialTemporal dials Temporal (temporalx.Dial) with the SDK's metrics going
// to the service's telemetry, and adds the client (AddTemporal).
func (s *Service) DialTemporal(ctx context.Context, cfg config.Temporal) (client.Client, error) {
	tc, err := temporalx.Dial(ctx, cfg, s.Log, temporalx.WithMetrics(s.Telemetry.TemporalMetrics()))
	if err != nil {
		return nil, err
	}
	s.AddTemporal(tc)
	return tc, nil
}
