package testenv

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/testcontainers/testcontainers-go"

	"github.com/orderflow/orderflow/migrations"
)

// The PostgreSQL container is shared by the tests of one binary; each test
// still gets a database of its own (Postgres), so nothing leaks between them.
var (
	pgOnce      sync.Once
	pgContainer testcontainers.Container
	pgAdminURL  string
	pgErr       error
)

// AdminDatabaseURL is the server tests create their databases on: in a
// container started once for this test binary, or with
// ORDERFLOW_TEST_INFRA=local the server at TEST_DATABASE_URL (default: the
// local server, database postgres).
func AdminDatabaseURL(t testing.TB) string {
	t.Helper()
	if !useContainers() {
		return envOr("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}
	pgOnce.Do(func() { pgAdminURL, pgContainer, pgErr = startPostgres() })
	if pgErr != nil {
		t.Fatalf("testenv: %v", pgErr)
	}
	return pgAdminURL
}

// startPostgres runs the PostgreSQL image on a free loopback port, set up
// through the POSTGRES_* variables that ours and the official image share.
func startPostgres() (string, testcontainers.Container, error) {
	var admin string
	var ctr testcontainers.Container
	err := withFreePorts(1, func(ports []int) error {
		admin = fmt.Sprintf("postgres://postgres:postgres@127.0.0.1:%d/postgres?sslmode=disable", ports[0])
		var err error
		ctr, err = startContainer(context.Background(), containerSpec{
			what:  "PostgreSQL",
			image: postgresImage(),
			// Durability is not a test's concern: no fsync, no full pages.
			cmd: []string{"postgres", "-c", "listen_addresses=127.0.0.1",
				"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300"},
			// PGPORT moves the server, and the image's health check with it.
			env: map[string]string{"POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": "postgres", "POSTGRES_DB": "postgres",
				"PGPORT": fmt.Sprint(ports[0])},
			ready: func(ctx context.Context) error {
				c, err := pgx.Connect(ctx, admin)
				if err != nil {
					return err
				}
				defer c.Close(ctx)
				return c.Ping(ctx)
			},
		})
		return err
	})
	return admin, ctr, err
}

// Postgres creates a database with every migration applied and returns
// its URL; the database is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	dbURL := EmptyDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := migrations.Up(ctx, dbURL); err != nil {
		t.Fatalf("testenv: migrate %s: %v", dbURL, err)
	}
	return dbURL
}

// EmptyDatabase creates a database without any table and returns its URL;
// the database is dropped when the test ends.
func EmptyDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := AdminDatabaseURL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL is required at %s (set TEST_DATABASE_URL): %v", admin, err)
	}
	defer conn.Close(ctx)
	name := strings.ReplaceAll(UniqueName("orderflow_test"), "-", "_")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("testenv: parse %s: %v", admin, err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	return u.String()
}

// Pool opens a connection pool on dbURL, closed when the test ends.
func Pool(t testing.TB, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("testenv: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
