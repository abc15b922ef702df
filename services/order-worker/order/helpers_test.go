package order

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	shipping "github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// infra is one test's PostgreSQL database and JetStream server, and the
// logger the workers get.
type infra struct {
	*testenv.Env
	log *slog.Logger
}

func newInfra(t *testing.T) infra {
	t.Helper()
	return infra{Env: testenv.New(t), log: testenv.Logger(t)}
}

// events reads every event published for orderID, in stream order.
func (in infra) events(t *testing.T, orderID string) []contracts.Event {
	t.Helper()
	var out []contracts.Event
	for _, m := range testenv.ReadStream(t, in.JS, contracts.StreamEvents, contracts.EventsRoot+"."+orderID+".>") {
		e, err := contracts.DecodeEvent(m.Data())
		if err != nil {
			t.Fatalf("event on %s: %v", m.Subject(), err)
		}
		if got := contracts.EventSubject(e.OrderID, e.Type); got != m.Subject() {
			t.Fatalf("event %s published on %s, want %s", e.ID, m.Subject(), got)
		}
		out = append(out, e)
	}
	return out
}

// allEvents reads the whole event stream, grouped by order.
func allEvents(t *testing.T, js jetstream.JetStream) map[string][]contracts.Event {
	t.Helper()
	out := map[string][]contracts.Event{}
	for _, m := range testenv.ReadStream(t, js, contracts.StreamEvents) {
		e, err := contracts.DecodeEvent(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		out[e.OrderID] = append(out[e.OrderID], e)
	}
	return out
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
	err := in.Pool.QueryRow(context.Background(),
		`SELECT order_id, status, charge_calls FROM payments WHERE payment_id = $1`, paymentID).Scan(&orderID, &status, &calls)
	if err != nil {
		return "", "", 0, false
	}
	return orderID, status, calls, true
}

// expectPaymentStatus fails unless the payments row of paymentID has status want.
func (in infra) expectPaymentStatus(t *testing.T, paymentID, want string) {
	t.Helper()
	if _, status, _, _ := in.payment(t, paymentID); status != want {
		t.Fatalf("payments row %s: status %q, want %q", paymentID, status, want)
	}
}

// paymentTotals counts the payments rows and the charge calls they recorded.
func (in infra) paymentTotals(t *testing.T) (rows, calls int) {
	t.Helper()
	if err := in.Pool.QueryRow(context.Background(), `SELECT count(*), sum(charge_calls) FROM payments`).Scan(&rows, &calls); err != nil {
		t.Fatal(err)
	}
	return rows, calls
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
