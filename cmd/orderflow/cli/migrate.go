package cli

import (
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/orderflow/orderflow/migrations"
)

func migrateCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply or list the database migrations (goose)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration to DATABASE_URL",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := e.timeout(cmd.Context())
			defer cancel()
			if err := migrations.Up(ctx, e.cfg.Postgres.URL); err != nil {
				return err
			}
			return printMigrations(e, cmd)
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "List every migration and whether DATABASE_URL has it",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return printMigrations(e, cmd) },
	})
	return cmd
}

func printMigrations(e *env, cmd *cobra.Command) error {
	ctx, cancel := e.timeout(cmd.Context())
	defer cancel()
	list, err := migrations.Status(ctx, e.cfg.Postgres.URL)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	_, _ = w.Write([]byte("VERSION\tMIGRATION\tSTATE\tAPPLIED AT\n"))
	for _, m := range list {
		state, at := "pending", ""
		if m.Applied {
			state, at = "applied", m.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		_, _ = w.Write([]byte(itoa(m.Version) + "\t" + m.Source + "\t" + state + "\t" + at + "\n"))
	}
	return w.Flush()
}
