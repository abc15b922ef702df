package cli

import (
	"context"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/orderflow/orderflow/migrations"
)

func migrateCmd(e *env) *cobra.Command {
	return group("migrate", "Apply or list the database migrations (goose)",
		&cobra.Command{
			Use:   "up",
			Short: "Apply every pending migration to DATABASE_URL",
			Args:  cobra.NoArgs,
			RunE: e.timed(func(ctx context.Context, _ []string) error {
				if err := migrations.Up(ctx, e.cfg.Postgres.URL); err != nil {
					return err
				}
				return printMigrations(ctx, e)
			}),
		},
		&cobra.Command{
			Use:   "status",
			Short: "List every migration and whether DATABASE_URL has it",
			Args:  cobra.NoArgs,
			RunE:  e.timed(func(ctx context.Context, _ []string) error { return printMigrations(ctx, e) }),
		})
}

func printMigrations(ctx context.Context, e *env) error {
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
