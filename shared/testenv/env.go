package testenv

import (
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// Env is the infrastructure of one test that most service tests share: a
// NATS server of its own with a connection and JetStream on it, and a fresh
// database with the schema and a pool on it. All of it goes away when the
// test ends.
type Env struct {
	NATS  *NATSServer
	NC    *nats.Conn
	JS    jetstream.JetStream
	DBURL string
	Pool  *pgxpool.Pool
}

// New starts an Env for t.
func New(t testing.TB) *Env {
	t.Helper()
	ns := NATS(t)
	nc := ns.Conn()
	dbURL := Postgres(t)
	return &Env{NATS: ns, NC: nc, JS: ns.JetStream(nc), DBURL: dbURL, Pool: Pool(t, dbURL)}
}

// TemporalClient dials the Temporal server at addr with the SDK logging to
// log; the client is closed when the test ends.
func TemporalClient(t testing.TB, addr string, log *slog.Logger) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: addr, Logger: tlog.NewStructuredLogger(log)})
	if err != nil {
		t.Fatalf("testenv: dial temporal at %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}
