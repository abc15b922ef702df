package order

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	shipping "github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// infra is real PostgreSQL and an embedded JetStream server for one test.
type infra struct {
	pool *pgxpool.Pool
	js   jetstream.JetStream
	log  *slog.Logger
}

func newInfra(t *testing.T) infra {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatalf("pool: %v", err)
	}
	t.Cleanup(pool.Close)
	ns := testenv.NATS(t)
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	return infra{pool: pool, js: ns.JetStream(ns.Conn()), log: logging.NewTo(os.Stderr, "order-worker-test", config.Log{Level: level})}
}

// newQuietLog logs errors only (replays log every step at info).
func newQuietLog() *slog.Logger {
	return logging.NewTo(os.Stderr, "order-worker-test", config.Log{Level: slog.LevelError})
}

// events reads every event published for orderID, in stream order.
func (in infra) events(t *testing.T, orderID string) []contracts.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := in.js.OrderedConsumer(ctx, contracts.StreamEvents, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{contracts.EventsRoot + "." + orderID + ".>"},
	})
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	var out []contracts.Event
	for {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			e, err := contracts.DecodeEvent(m.Data())
			if err != nil {
				t.Fatalf("event on %s: %v", m.Subject(), err)
			}
			if got := contracts.EventSubject(e.OrderID, e.Type); got != m.Subject() {
				t.Fatalf("event %s published on %s, want %s", e.ID, m.Subject(), got)
			}
			out = append(out, e)
		}
		if n == 0 {
			return out
		}
	}
}

// eventTypes checks seq is 1..n without gaps and returns the types in order.
func eventTypes(t *testing.T, evs []contracts.Event) []contracts.EventType {
	t.Helper()
	slices.SortFunc(evs, func(a, b contracts.Event) int { return int(a.Seq - b.Seq) })
	types := make([]contracts.EventType, len(evs))
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: sequence has a gap or a duplicate", i, e.Seq)
		}
		if e.Order.UpdatedAt.Before(e.Order.AcceptedAt) {
			t.Fatalf("event %s: snapshot updated_at before accepted_at", e.ID)
		}
		types[i] = e.Type
	}
	return types
}

// payment reads the payments row of paymentID (found=false if none).
func (in infra) payment(t *testing.T, paymentID string) (orderID, status string, calls int, found bool) {
	t.Helper()
	err := in.pool.QueryRow(context.Background(),
		`SELECT order_id, status, charge_calls FROM payments WHERE payment_id = $1`, paymentID).Scan(&orderID, &status, &calls)
	if err != nil {
		return "", "", 0, false
	}
	return orderID, status, calls, true
}

// testCarrier refuses packages for a zip code during the first N shipping
// attempts (failZips[zip] = N) and remembers where it dispatched; like a
// real carrier it takes one parcel per idempotency key.
type testCarrier struct {
	failZips map[string]int
	shipping.MemoryCarrier

	mu         sync.Mutex
	dispatched []domain.Address
}

func (c *testCarrier) Dispatch(ctx context.Context, s shipping.Shipment) (shipping.Dispatch, error) {
	if s.ShippingAttempt <= c.failZips[s.Address.ZipCode] {
		return shipping.Dispatch{}, errCarrierRefused
	}
	c.mu.Lock()
	c.dispatched = append(c.dispatched, s.Address)
	c.mu.Unlock()
	return c.MemoryCarrier.Dispatch(ctx, s)
}

func (c *testCarrier) addresses() []domain.Address {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.dispatched)
}

type carrierError string

func (e carrierError) Error() string { return string(e) }

const errCarrierRefused = carrierError("carrier refused the address")

func orderInput(orderID string) contracts.OrderInput {
	return contracts.OrderInput{
		OrderID:    orderID,
		PaymentID:  "pay-" + orderID,
		Items:      []domain.Item{{SKU: "SKU-1", Quantity: 2, PriceCents: 1250}},
		Address:    domain.DefaultAddress(),
		CommandID:  "cmd-start-" + orderID,
		AcceptedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// Zip codes the test carrier refuses: in the first shipping attempt only,
// or always.
const (
	zipFailOnce   = "00000"
	zipFailAlways = "99999"
)
