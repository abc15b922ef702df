package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestInfrastructureIsReal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	conn, err := pgx.Connect(ctx, Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 0 {
		t.Fatalf("fresh orders table: n=%d err=%v", n, err)
	}

	ns := NATS(t)
	js := ns.JetStream(ns.Conn())
	if _, err := js.Publish(ctx, "orders.commands.o-1.start", []byte(`{}`)); err != nil {
		t.Fatalf("publish into ORDER_COMMANDS: %v", err)
	}

	c, err := client.DialContext(ctx, client.Options{HostPort: Temporal(t)})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
