package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/integration/stack"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// run executes the CLI as the binary does and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := Execute(ctx, args, &out, &errOut)
	if testing.Verbose() {
		t.Logf("orderflow %s\n%s%s", strings.Join(args, " "), out.String(), errOut.String())
	}
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("orderflow %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// wantContains checks out holds every want, comparing with runs of spaces
// collapsed (tables are aligned with padding).
func wantContains(t *testing.T, out string, wants ...string) {
	t.Helper()
	squashed := strings.Join(strings.Fields(out), " ")
	for _, w := range wants {
		if !strings.Contains(squashed, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestMigrateUpAndStatus(t *testing.T) {
	db := testenv.EmptyDatabase(t)
	wantContains(t, mustRun(t, "migrate", "status", "--database-url", db), "00001_init.sql", "pending")
	out := mustRun(t, "migrate", "up", "--database-url", db)
	wantContains(t, out, "00001_init.sql", "applied")
	if strings.Contains(out, "pending") {
		t.Errorf("a migration is still pending after up:\n%s", out)
	}
	// The schema is really there.
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&n); err != nil {
		t.Fatalf("orders table after migrate up: %v", err)
	}
	if _, err := run(t, "migrate", "status", "--database-url", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil ||
		!strings.Contains(err.Error(), "connect to database") {
		t.Errorf("unreachable database: %v, want a connect error", err)
	}
}

func TestStreamsVerifyAndProvision(t *testing.T) {
	ns := testenv.NATS(t)
	js := ns.JetStream(ns.Conn())
	ctx := context.Background()
	mustRun(t, "streams", "verify", "--nats-url", ns.URL)

	// Drift: a missing stream and a changed retention period.
	if err := js.DeleteStream(ctx, contracts.StreamDLQ); err != nil {
		t.Fatal(err)
	}
	for _, c := range natsx.StreamConfigs() {
		if c.Name == contracts.StreamResults {
			c.MaxAge = time.Hour
			if _, err := js.UpdateStream(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, err := run(t, "streams", "verify", "--nats-url", ns.URL)
	if err == nil {
		t.Fatalf("verify passed with a missing stream:\n%s", out)
	}
	wantContains(t, out, "ORDER_DLQ MISSING", "ORDER_RESULTS DIFFERS max age: want 24h0m0s, have 1h0m0s", "ORDER_EVENTS ok")

	wantContains(t, mustRun(t, "streams", "provision", "--nats-url", ns.URL), "ORDER_DLQ", "provisioned")
	wantContains(t, mustRun(t, "streams", "verify", "--nats-url", ns.URL), "ORDER_DLQ ok", "ORDER_RESULTS ok")

	// The operator's limits: verify reports the streams as they are, provision applies them.
	t.Setenv("NATS_STREAM_MAX_AGE", "ORDER_EVENTS:720h")
	t.Setenv("NATS_STREAM_MAX_BYTES", "ORDER_EVENTS:1048576")
	out, err = run(t, "streams", "verify", "--nats-url", ns.URL)
	if err == nil {
		t.Fatalf("verify passed with limits not applied:\n%s", out)
	}
	wantContains(t, out, "ORDER_EVENTS DIFFERS max age: want 720h0m0s, have 0s", "ORDER_EVENTS DIFFERS max bytes: want 1048576, have -1")
	wantContains(t, mustRun(t, "streams", "provision", "--nats-url", ns.URL), "ORDER_EVENTS", "max age 720h0m0s", "max bytes 1048576")
	wantContains(t, mustRun(t, "streams", "verify", "--nats-url", ns.URL), "ORDER_EVENTS ok")
	if c := testenv.StreamInfo(t, js, contracts.StreamEvents).Config; c.MaxAge != 720*time.Hour || c.MaxBytes != 1<<20 {
		t.Fatalf("events stream after provision: max age %s, max bytes %d", c.MaxAge, c.MaxBytes)
	}
	t.Setenv("NATS_STREAM_MAX_AGE", "ORDER_EVENT:1h")
	if out, err := run(t, "streams", "provision", "--nats-url", ns.URL); err == nil || !strings.Contains(err.Error(), `no stream "ORDER_EVENT"`) {
		t.Fatalf("a misspelt stream was accepted: %v\n%s", err, out)
	}
}

func TestDLQListInspectReplay(t *testing.T) {
	ns := testenv.NATS(t)
	js := ns.JetStream(ns.Conn())
	ctx := context.Background()
	orderID := testenv.UniqueName("dlq")
	body := `{"payment_id":"pay-1"}`
	if err := natsx.DeadLetter(ctx, js, contracts.DLQCommands, contracts.CommandSubject(orderID, contracts.CommandStart),
		[]byte(body), "cmd-1", "bridge: temporal rejected the start"); err != nil {
		t.Fatal(err)
	}
	if err := natsx.DeadLetter(ctx, js, contracts.DLQEvents, "somewhere.else", []byte(`{}`), "ev-1", "not ours"); err != nil {
		t.Fatal(err)
	}
	nats := "--nats-url=" + ns.URL

	out := mustRun(t, "dlq", "list", nats)
	wantContains(t, out, "orders.dlq.commands", contracts.CommandSubject(orderID, contracts.CommandStart),
		"bridge: temporal rejected the start", "orders.dlq.events", "2 dead letter(s)")
	wantContains(t, mustRun(t, "dlq", "inspect", "1", nats), "Orderflow-Reason: bridge: temporal rejected the start", body)

	commands := func() uint64 { return testenv.StreamInfo(t, js, contracts.StreamCommands).State.Msgs }
	out = mustRun(t, "dlq", "replay", "1", "--dry-run", nats)
	wantContains(t, out, "dlq 1 -> "+contracts.CommandSubject(orderID, contracts.CommandStart), "dry run")
	if n := commands(); n != 0 {
		t.Fatalf("dry run published %d commands", n)
	}
	wantContains(t, mustRun(t, "dlq", "list", nats), "2 dead letter(s)")

	mustRun(t, "dlq", "replay", "1", nats)
	s, _ := js.Stream(ctx, contracts.StreamCommands)
	m, err := s.GetLastMsgForSubject(ctx, contracts.CommandSubject(orderID, contracts.CommandStart))
	if err != nil {
		t.Fatalf("replayed command not in %s: %v", contracts.StreamCommands, err)
	}
	if string(m.Data) != body || m.Header.Get(contracts.HeaderMsgID) != "replay-dlq-1" {
		t.Fatalf("replayed %q with id %q", m.Data, m.Header.Get(contracts.HeaderMsgID))
	}
	if _, err := contracts.DecodeCommand(m.Subject, m.Data); err != nil {
		t.Fatalf("the bridge would not decode the replay: %v", err)
	}
	wantContains(t, mustRun(t, "dlq", "list", nats), "1 dead letter(s)")

	// A dead letter whose original subject is not a command or event stays.
	if _, err := run(t, "dlq", "replay", "2", nats); err == nil || !strings.Contains(err.Error(), "not a command or event subject") {
		t.Fatalf("replay to a foreign subject: %v", err)
	}
	if _, err := run(t, "dlq", "replay", nats); err == nil {
		t.Fatal("replay without sequences or --all was accepted")
	}
	if _, err := run(t, "dlq", "inspect", "x", nats); err == nil || !strings.Contains(err.Error(), "not a dead-letter sequence") {
		t.Fatalf("inspect x: %v", err)
	}
}

// TestOrderCommandsAndRebuild runs the whole system: inspect an order held
// for review, approve it, cancel another, see a rejection, then rebuild the
// projection into a fresh database and compare.
func TestOrderCommandsAndRebuild(t *testing.T) {
	s := stack.Start(t, stack.Options{NoAPI: true})
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	flags := []string{"--nats-url", s.NATS.URL, "--database-url", s.DBURL, "--temporal-ui", "http://ui.example:8233"}
	approveMe, cancelMe := testenv.UniqueName("cli-approve"), testenv.UniqueName("cli-cancel")
	for _, id := range []string{approveMe, cancelMe} {
		if _, err := c.Start(ctx, id, client.StartOrder{PaymentID: "pay-" + id, ManualReview: true}, client.WithWait(10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{approveMe, cancelMe} {
		testenv.Eventually(t, 20*time.Second, func() (bool, string) {
			return s.OrderState(t, id) == "awaiting_approval", "waiting for " + id + " awaiting approval"
		})
	}

	out := mustRun(t, append([]string{"order", "inspect", approveMe}, flags...)...)
	wantContains(t, out, "state: awaiting_approval", "http://ui.example:8233/namespaces/default/workflows/order-wf-"+approveMe,
		"received", "awaiting_approval", "event(s) projected")

	wantContains(t, mustRun(t, append([]string{"order", "approve", approveMe}, flags...)...), "approve "+approveMe, "applied")
	wantContains(t, mustRun(t, append([]string{"order", "cancel", cancelMe, "--reason", "fraud check"}, flags...)...), "applied")
	testenv.Eventually(t, 30*time.Second, func() (bool, string) {
		return s.OrderState(t, approveMe) == "shipped", "waiting for approved order shipped"
	})
	testenv.Eventually(t, 30*time.Second, func() (bool, string) { return s.OrderState(t, cancelMe) == "cancelled", "waiting for cancelled order" })
	wantContains(t, mustRun(t, append([]string{"order", "inspect", approveMe}, flags...)...), "state: shipped", "payment_charged", "shipped")
	wantContains(t, mustRun(t, append([]string{"order", "inspect", cancelMe}, flags...)...), "signal cancel accepted=true", "cancelled")

	// Once the workflow has closed, the bridge itself rejects a signal.
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		st, err := c.Status(ctx, cancelMe)
		return err == nil && st.WorkflowStatus != "RUNNING", "waiting for cancelled workflow closed"
	})
	if _, err := run(t, append([]string{"order", "approve", cancelMe}, flags...)...); err == nil || !strings.Contains(err.Error(), "rejected by the bridge") {
		t.Fatalf("approve of a cancelled order: %v, want a rejection", err)
	}
	if _, err := run(t, append([]string{"order", "inspect", "bad.id"}, flags...)...); err == nil {
		t.Fatal("inspect of an invalid order ID succeeded")
	}

	// Rebuild into an empty, migrated database; the orders match the live projection.
	rebuilt := testenv.EmptyDatabase(t)
	rflags := []string{"--nats-url", s.NATS.URL, "--database-url", rebuilt}
	wantContains(t, mustRun(t, append([]string{"projection", "rebuild", "--migrate"}, rflags...)...), "projection rebuilt: 2 orders")
	live, again := orderStates(t, s.DBURL), orderStates(t, rebuilt)
	if live != again {
		t.Fatalf("rebuilt projection differs:\n live  %s\n again %s", live, again)
	}
	if _, err := run(t, append([]string{"projection", "rebuild"}, rflags...)...); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Fatalf("rebuild into a filled database: %v", err)
	}
}

func orderStates(t *testing.T, db string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s string
	err = conn.QueryRow(context.Background(), `SELECT string_agg(order_id || '=' || state || '@' || last_seq, ',' ORDER BY order_id) FROM orders`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
