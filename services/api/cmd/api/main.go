// Command api serves orderflow's HTTP API; see package api. It is the only
// place that reads the API's configuration and opens its connections.
package main

import (
	"context"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/pgxx"
)

func main() { app.Main("api", run) }

// run opens PostgreSQL, then NATS, and serves the API on them. On the way
// out api.Run stops accepting and finishes in-flight requests, then NATS is
// drained and the pool closed (app.Serve: last opened first).
func run(ctx context.Context) error {
	cfg, err := config.Load[api.Config]()
	if err != nil {
		return err
	}
	return app.Serve(ctx, "api", cfg.Log, cfg.OpsAddr, cfg.Shutdown, func(ctx context.Context, s *app.Service) error {
		pool, err := pgxx.Open(ctx, cfg.Postgres)
		if err != nil {
			return err
		}
		s.AddPostgres(pool)
		nc, _, err := natsx.ConnectJetStream(ctx, cfg.NATS, "orderflow-api", s.Log, contracts.StreamCommands, contracts.StreamResults)
		if err != nil {
			return err
		}
		s.AddNATS(nc)

		return api.Run(ctx, cfg, api.Deps{NATS: nc, DB: pool, Log: s.Log, Metrics: s.Ops.Registry()})
	})
}
