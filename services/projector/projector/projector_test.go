package projector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/projector/projector"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// checkOrders asserts the orders table holds, for each order, exactly what
// its last event says, column by column: the reference is not trusted blindly.
func checkOrders(t *testing.T, e *testenv.Env, w workload) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.Pool.Query(ctx, `SELECT order_id, workflow_id, payment_id, state, step, terminal, amount_cents,
		manual_review, payment_status, tracking_number, failure_reason, last_seq, last_event_type,
		accepted_at, updated_at, completed_at, jsonb_array_length(items), address->>'city',
		(SELECT count(*) FROM events ev WHERE ev.order_id = o.order_id)
		FROM orders o`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var (
			id, wf, pay, state, step, payStatus, tracking, failure, lastType, city string
			terminal, manual                                                       bool
			amount, lastSeq, nEvents                                               int64
			nItems                                                                 int
			accepted, updated                                                      time.Time
			completed                                                              *time.Time
		)
		if err := rows.Scan(&id, &wf, &pay, &state, &step, &terminal, &amount, &manual, &payStatus, &tracking,
			&failure, &lastSeq, &lastType, &accepted, &updated, &completed, &nItems, &city, &nEvents); err != nil {
			t.Fatal(err)
		}
		seen++
		evs, ok := w.orders[id]
		if !ok {
			t.Errorf("unexpected order %s", id)
			continue
		}
		last := evs[len(evs)-1]
		s := last.Order
		tr := ""
		if s.Shipping != nil {
			tr = s.Shipping.TrackingNumber
		}
		got := []any{wf, pay, state, step, terminal, amount, manual, payStatus, tracking, failure, lastSeq, lastType,
			accepted.UTC(), updated.UTC(), completed != nil, nItems, city, nEvents}
		want := []any{s.WorkflowID, s.Payment.PaymentID, string(s.State), string(s.Step), s.State.Terminal(), s.Payment.AmountCents,
			s.ManualReview, s.Payment.Status, tr, s.FailureReason, last.Seq, string(last.Type),
			s.AcceptedAt, last.Time, s.CompletedAt != nil, len(s.Items), s.Address.City, int64(len(evs))}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("order %s column %d: got %v, want %v", id, i, got[i], want[i])
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(w.orders) {
		t.Errorf("orders table has %d rows, want %d", seen, len(w.orders))
	}
}

// checkProjected asserts e holds w's orders (checkOrders), tables equal to
// want, and no dead letter: every event was projected, none given up on.
func checkProjected(t *testing.T, e *testenv.Env, w workload, want tables, label string) {
	t.Helper()
	checkOrders(t, e, w)
	assertSameTables(t, want, dump(t, e.Pool), label)
	if n := len(dlqMessages(t, e.JS)); n != 0 {
		t.Errorf("%s: %d messages dead-lettered, want 0", label, n)
	}
}

func TestEveryEventDeliveredTwiceGivesIdenticalTables(t *testing.T) {
	w := newWorkload("dup", 40, 1)
	want := reference(t, w)

	for _, mode := range []struct {
		name  string
		tweak func(*projector.Config)
	}{
		{"batched", nil},
		{"single", func(c *projector.Config) { c.BatchSize = 1 }},
	} {
		t.Run(mode.name, func(t *testing.T) {
			e := project(t, w.all, true, mode.tweak)
			checkProjected(t, e, w, want, "every event twice")
		})
	}
}

func TestEventsShuffledWithinEachOrderGiveTheInOrderState(t *testing.T) {
	w := newWorkload("shuf", 40, 2)
	want := reference(t, w)
	shuffled := w.shuffledWithinOrders(3)
	inOrder := 0
	for i, ev := range shuffled {
		if ev.ID == w.all[i].ID {
			inOrder++
		}
	}
	if inOrder == len(shuffled) {
		t.Fatal("shuffle left every event in place")
	}
	e := project(t, shuffled, false, nil)
	checkOrders(t, e, w)
	assertSameTables(t, want, dump(t, e.Pool), "shuffled within orders")
}

func TestPostgresOutageLosesNothing(t *testing.T) {
	w := newWorkload("outage", 40, 4)
	want := reference(t, w)
	half := len(w.all) / 2

	e := testenv.New(t)
	proxy, proxiedURL := testenv.ProxyURL(t, e.DBURL)
	pool := testenv.Pool(t, proxiedURL)
	cfg := testConfig(t, e)
	cfg.Retries = 1
	cfg.RedeliveryMaxDelay = 300 * time.Millisecond
	startProjector(t, cfg, pool)

	ctx := context.Background()
	publish(t, e.JS, w.all[:half], false)
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		n, err := countEvents(ctx, e.Pool)
		return n == half && err == nil, fmt.Sprintf("first half projected: %d of %d events (err %v)", n, half, err)
	})

	proxy.Cut() // PostgreSQL "goes down" for the projector
	publish(t, e.JS, w.all[half:], false)
	consumer, err := e.JS.Consumer(ctx, contracts.StreamEvents, cfg.Durable)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() (bool, string) {
		info, err := consumer.Info(ctx)
		return err == nil && info.NumRedelivered > 0, fmt.Sprintf("failed deliveries to be redelivered during the outage (err %v)", err)
	})
	if n, err := countEvents(ctx, e.Pool); err != nil || n != half {
		t.Fatalf("during the outage events = %d (err %v), want %d", n, err, half)
	}

	proxy.Restore() // and comes back
	waitConsumed(t, e.JS, cfg.Durable)
	checkProjected(t, e, w, want, "after outage")
}

func TestRebuildEqualsLiveProjection(t *testing.T) {
	w := newWorkload("rebuild", 40, 5)
	live := project(t, w.shuffledWithinOrders(6), true, nil)
	// A poison event in the stream must not stop the rebuild from finishing.
	bad := nats.NewMsg(contracts.EventSubject("rebuild-bad", contracts.EventReceived))
	bad.Data = []byte(`{"id":`)
	if _, err := live.JS.PublishMsg(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	waitConsumed(t, live.JS, "projector")
	liveTables := dump(t, live.Pool)

	cfg := testConfig(t, live)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := projector.Rebuild(ctx, cfg, newDeps(t, cfg, live.Pool), testenv.Logger(t)); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("rebuild into a non-empty database: err = %v, want refusal", err)
	}

	rebuiltURL := testenv.Postgres(t) // fresh database, migrations applied
	rebuilt := testenv.Pool(t, rebuiltURL)
	cfg.Postgres.URL = rebuiltURL
	if err := projector.Rebuild(ctx, cfg, newDeps(t, cfg, rebuilt), testenv.Logger(t)); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	assertSameTables(t, liveTables, dump(t, rebuilt), "rebuild vs live")

	// The temporary consumer is gone; only the live one remains.
	stream, err := live.JS.Stream(ctx, contracts.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	names := stream.ConsumerNames(ctx)
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if len(got) != 1 || got[0] != "projector" {
		t.Errorf("consumers after rebuild = %v, want [projector]", got)
	}
}

func TestPoisonEventsAreDeadLetteredAndProjectionContinues(t *testing.T) {
	w := newWorkload("poison", 12, 7)
	nul := orderEvents("poison-nul", pathShipped, time.Now())[0]
	nul.Order.FailureReason = "bad\x00byte" // PostgreSQL refuses NUL in text and jsonb
	wrongVersion := orderEvents("poison-ver", pathShipped, time.Now())[0]
	wrongVersion.SchemaVersion = 99
	misrouted := orderEvents("poison-route", pathShipped, time.Now())[0]

	e := testenv.New(t)
	cfg := testConfig(t, e)
	ctx := context.Background()
	pub := func(subject string, body []byte, id string) {
		m := nats.NewMsg(subject)
		m.Data = body
		m.Header.Set(contracts.HeaderMsgID, id)
		if _, err := e.JS.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	body := func(ev contracts.Event) []byte {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	half := len(w.all) / 2
	publish(t, e.JS, w.all[:half], false)
	pub(contracts.EventSubject("poison-json", contracts.EventReceived), []byte(`{"id": "poison-json:1", `), "poison-json:1")
	pub(contracts.EventSubject(wrongVersion.OrderID, wrongVersion.Type), body(wrongVersion), wrongVersion.ID)
	pub(contracts.EventSubject("someone-else", misrouted.Type), body(misrouted), misrouted.ID)
	nulMsg, err := natsx.EventMsg(nul)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.JS.PublishMsg(ctx, nulMsg); err != nil {
		t.Fatal(err)
	}
	publish(t, e.JS, w.all[half:], false)

	startProjector(t, cfg, e.Pool)
	waitConsumed(t, e.JS, cfg.Durable)
	checkOrders(t, e, w) // every valid order projected, nothing of the poison ones

	wantReasons := map[string]string{
		contracts.EventSubject("poison-json", contracts.EventReceived):  "not valid JSON",
		contracts.EventSubject(wrongVersion.OrderID, wrongVersion.Type): "schema_version 99",
		contracts.EventSubject("someone-else", misrouted.Type):          "arrived on subject",
		contracts.EventSubject(nul.OrderID, nul.Type):                   "22", // SQLSTATE class 22: data exception
	}
	dlq := dlqMessages(t, e.JS)
	if len(dlq) != len(wantReasons) {
		t.Fatalf("dead letters = %d, want %d", len(dlq), len(wantReasons))
	}
	for _, m := range dlq {
		orig := m.Headers().Get(contracts.HeaderOriginalSubject)
		reason := m.Headers().Get(contracts.HeaderReason)
		want, ok := wantReasons[orig]
		if !ok {
			t.Errorf("unexpected dead letter from %s: %s", orig, reason)
			continue
		}
		if !strings.Contains(reason, want) {
			t.Errorf("dead letter from %s: reason %q does not mention %q", orig, reason, want)
		}
		if m.Subject() != contracts.DLQEvents || len(m.Data()) == 0 {
			t.Errorf("dead letter on %s with %d bytes; want %s with the original body", m.Subject(), len(m.Data()), contracts.DLQEvents)
		}
		delete(wantReasons, orig)
	}
	var n int
	if err := e.Pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE order_id LIKE 'poison-%' AND order_id NOT LIKE 'poison-0%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("poison orders projected: %d (err %v)", n, err)
	}
}

func TestPlainSubscriberReceivesOneOrdersEventsInSequence(t *testing.T) {
	w := newWorkload("sub", 6, 8)
	var target string
	for id, evs := range w.orders {
		if len(evs) > len(w.orders[target]) {
			target = id
		}
	}
	e := testenv.New(t)
	live, err := e.NC.SubscribeSync("orders.events." + target + ".>")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	publish(t, e.JS, w.all, false)

	check := func(label string, next func() (*nats.Msg, error)) {
		t.Helper()
		for want := int64(1); want <= int64(len(w.orders[target])); want++ {
			m, err := next()
			if err != nil {
				t.Fatalf("%s: event %d: %v", label, want, err)
			}
			ev, err := contracts.DecodeEvent(m.Data)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			if ev.OrderID != target || ev.Seq != want || m.Subject != contracts.EventSubject(target, ev.Type) {
				t.Fatalf("%s: got %s seq %d on %s, want %s seq %d", label, ev.OrderID, ev.Seq, m.Subject, target, want)
			}
			if m.Header.Get(contracts.HeaderCEID) != ev.ID || m.Header.Get(contracts.HeaderCESpecVersion) != "1.0" {
				t.Fatalf("%s: CloudEvents headers missing on %s", label, ev.ID)
			}
		}
	}
	check("core subscription", func() (*nats.Msg, error) { return live.NextMsg(5 * time.Second) })
	if m, err := live.NextMsg(200 * time.Millisecond); err == nil {
		t.Fatalf("extra message on the order's subject: %s", m.Subject)
	}

	// A late subscriber replays the same order from the stream.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	oc, err := e.JS.OrderedConsumer(ctx, contracts.StreamEvents, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"orders.events." + target + ".>"},
	})
	if err != nil {
		t.Fatal(err)
	}
	check("replay", func() (*nats.Msg, error) {
		m, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			return nil, err
		}
		return &nats.Msg{Subject: m.Subject(), Data: m.Data(), Header: m.Headers()}, nil
	})
}
