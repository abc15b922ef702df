package cli

import (
	"github.com/spf13/cobra"

	"github.com/orderflow/orderflow/migrations"
	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/app"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/natsx"
)

func projectionCmd(e *env) *cobra.Command {
	var migrate bool
	rebuild := &cobra.Command{
		Use:   "rebuild",
		Short: "Replay ORDER_EVENTS into the empty database at DATABASE_URL, then exit",
		Long: `Rebuilds the orders and events tables from the event stream, the source of
truth (services/projector/README.md, "Rebuilding the projection"):

  1. stop the projector;
  2. point --database-url at an empty database (--migrate applies the
     migrations first; a database whose orders or events has rows is refused);
  3. orderflow projection rebuild — it reads ORDER_EVENTS from the start with a
     temporary consumer and exits once every event stored when it started is
     projected or dead-lettered;
  4. start the projector on the rebuilt database.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if migrate {
				if err := migrations.Up(ctx, e.cfg.Postgres.URL); err != nil {
					return err
				}
			}
			pcfg, err := config.Load[projector.Config]()
			if err != nil {
				return err
			}
			pcfg.NATS, pcfg.Postgres = e.cfg.NATS, e.cfg.Postgres
			// The same connections cmd/projector opens for a rebuild.
			conns := app.NewConns(pcfg.Shutdown.Timeout, e.log)
			defer conns.Close()
			pool, err := e.pool(ctx)
			if err != nil {
				return err
			}
			conns.AddPostgres(pool)
			nc, err := natsx.Connect(pcfg.NATS, "projector-rebuild", e.log)
			if err != nil {
				return err
			}
			conns.AddNATS(nc)
			sub, err := natsx.Connect(pcfg.NATS, "projector-consumer", e.log)
			if err != nil {
				return err
			}
			conns.AddNATSSubscriber(sub)
			if err := projector.Rebuild(ctx, pcfg, projector.Deps{NATS: nc, Subscriber: sub, Pool: pool}, e.log); err != nil {
				return err
			}
			var orders, events int64
			if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM events)").Scan(&orders, &events); err != nil {
				return err
			}
			e.printf("projection rebuilt: %d orders, %d events\n", orders, events)
			return nil
		},
	}
	rebuild.Flags().BoolVar(&migrate, "migrate", false, "apply the migrations to the database first")
	return group("projection", "Rebuild the PostgreSQL projection from ORDER_EVENTS", rebuild)
}
