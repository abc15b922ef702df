package stackkit

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CheckPortsFree fails fast when a listener about to be started is taken,
// for example by another run command: waiting for the port would otherwise
// find the other process and wire our services to it. listeners maps the
// setting that chooses the address to the address.
func CheckPortsFree(listeners map[string]string) error {
	names := make([]string, 0, len(listeners))
	for name := range listeners {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		l, err := net.Listen("tcp", listeners[name])
		if err != nil {
			return fmt.Errorf("%s (%s) is not free: %w; is another run command running? Stop it or set %s", name, listeners[name], err, name)
		}
		l.Close()
	}
	return nil
}

// CreateDatabase creates the database of dbURL unless it exists, through
// the server's postgres database.
func CreateDatabase(ctx context.Context, dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin := *u
	admin.Path = "/postgres"
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, admin.String())
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

// Redact hides a URL's password for logs.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	return u.Redacted()
}
