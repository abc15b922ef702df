package app

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/shared/ops"
	"github.com/orderflow/orderflow/shared/testenv"
)

func startNATS(t *testing.T) string {
	return testenv.EmbeddedNATS(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT})
}

// TestConnsCloseLastOpenedFirst: every connection is closed, in the
// reverse of the order main added them, each added one is a readiness
// check, and a second Close has nothing left to do.
func TestConnsCloseLastOpenedFirst(t *testing.T) {
	url := startNATS(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	srv := ops.New("test", log)
	conns := NewConns(5*time.Second, log)
	conns.ready = srv

	// Neither the pool nor the lazy client dials before first use.
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	conns.AddPostgres(pool)
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	conns.AddTemporal(tc)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	conns.AddNATS(nc)
	sub, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	conns.AddNATSSubscriber(sub)
	sub.Close() // already closed, as Watermill leaves its subscriber's

	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	checks := map[string]int{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if name, _, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "\t") {
			checks[name]++
		}
	}
	if len(checks) != 3 || checks["postgres"] != 1 || checks["temporal"] != 1 || checks["nats"] != 1 {
		t.Errorf("/readyz checks %v, want postgres, temporal and nats once each:\n%s", checks, rec.Body.String())
	}

	conns.Close()
	if !nc.IsClosed() || !sub.IsClosed() {
		t.Fatal("a NATS connection is still open")
	}
	if pool.Stat().TotalConns() != 0 {
		t.Fatal("pool still holds connections")
	}
	if !strings.Contains(logs.String(), `order="nats subscriber, nats, temporal, postgres"`) {
		t.Fatalf("close order not last opened first:\n%s", logs.String())
	}
	logs.Reset()
	conns.Close()
	if logs.Len() != 0 {
		t.Fatalf("second Close did something: %s", logs.String())
	}
}

// TestDrainNATSDeliversWhatIsPending: a drained connection delivers what
// its subscriptions already hold before it closes.
func TestDrainNATSDeliversWhatIsPending(t *testing.T) {
	url := startNATS(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	release := make(chan struct{})
	if _, err := nc.Subscribe("work", func(m *nats.Msg) { <-release; got <- string(m.Data) }); err != nil {
		t.Fatal(err)
	}
	pub, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for _, s := range []string{"a", "b", "c"} {
		if err := pub.Publish("work", []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil { // the three are in nc's buffer
		t.Fatal(err)
	}
	close(release)
	DrainNATS(nc, 5*time.Second, slog.New(slog.DiscardHandler))
	if !nc.IsClosed() {
		t.Fatal("connection not closed after the drain")
	}
	if len(got) != 3 {
		t.Fatalf("%d of 3 pending messages delivered", len(got))
	}
}
