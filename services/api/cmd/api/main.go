// Command api serves orderflow's HTTP API; see package server.
package main

import (
	"context"

	"github.com/orderflow/orderflow/services/api/server"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
)

func main() { app.Main("api", run) }

func run(ctx context.Context) error {
	cfg, err := config.Load[server.Config]()
	if err != nil {
		return err
	}
	return server.Run(ctx, cfg, logging.New("api", cfg.Log))
}
