// Command api serves orderflow's HTTP API; see package api. It is the only
// place that reads the API's configuration and opens its connections.
package main

import (
	"context"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/contracts"
)

func main() { app.Run("api", serve) }

// serve opens PostgreSQL, then NATS, and serves the API on them. On the way
// out api.Run stops accepting and finishes in-flight requests, then NATS is
// drained and the pool closed (app.Serve: last opened first).
func serve(ctx context.Context, cfg api.Config, s *app.Service) error {
	pool, err := s.OpenPostgres(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	nc, _, err := s.ConnectJetStream(ctx, cfg.NATS, "orderflow-api", contracts.StreamCommands, contracts.StreamResults)
	if err != nil {
		return err
	}
	return api.Run(ctx, cfg, api.Deps{NATS: nc, DB: pool, Log: s.Log, Metrics: s.Ops.Registry()})
}
