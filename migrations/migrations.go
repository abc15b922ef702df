// Package migrations owns the SQL schema (the numbered files beside it) and
// applies it with goose. Services never apply it: `orderflow migrate up`,
// the one-shot migrate command (shared/cmd/migrate, run before the services
// in a deployment), the run command (deploy/devstack) and the tests do.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
)

//go:embed sql/*.sql
var files embed.FS

// Up applies every pending migration to the database at url.
func Up(ctx context.Context, url string) error {
	return withProvider(ctx, url, func(p *goose.Provider) error {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("apply migrations: %w", err)
		}
		return nil
	})
}

// Migration is one migration and whether the database has it.
type Migration struct {
	Version   int64
	Source    string // file name under sql/
	Applied   bool
	AppliedAt time.Time // zero when pending
}

// Status lists every migration in version order with its state in the
// database at url, for operators (`orderflow migrate status`).
func Status(ctx context.Context, url string) ([]Migration, error) {
	var out []Migration
	err := withProvider(ctx, url, func(p *goose.Provider) error {
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migration status: %w", err)
		}
		for _, m := range st {
			out = append(out, Migration{Version: m.Source.Version, Source: filepath.Base(m.Source.Path),
				Applied: m.State == goose.StateApplied, AppliedAt: m.AppliedAt})
		}
		return nil
	})
	return out, err
}

// withProvider runs f with a goose provider over the embedded files.
func withProvider(ctx context.Context, url string, f func(*goose.Provider) error) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	sub, err := fs.Sub(files, "sql")
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		return fmt.Errorf("goose provider: %w", err)
	}
	return f(provider)
}
