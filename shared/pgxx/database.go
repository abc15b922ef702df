package pgxx

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateDatabase creates the database of dbURL unless it exists, through
// the server's postgres database. The run commands use it for theirs.
func CreateDatabase(ctx context.Context, dbURL string) error {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, name, err := connectAdmin(cctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(cctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := conn.Exec(cctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}

// DropDatabase drops the database of dbURL if it exists, sessions on it
// and all (WITH (FORCE)), through the server's postgres database: for a
// run command's reset and the benchmark's fresh start.
func DropDatabase(ctx context.Context, dbURL string) error {
	conn, name, err := connectAdmin(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// connectAdmin connects to the postgres database of dbURL's server, and
// names the database dbURL is for.
func connectAdmin(ctx context.Context, dbURL string) (*pgx.Conn, string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, "", fmt.Errorf("database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return nil, "", err
	}
	return conn, name, nil
}
