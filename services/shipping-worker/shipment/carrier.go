package shipment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderflow/orderflow/shared/domain"
)

// Shipment is what is handed to a carrier.
type Shipment struct {
	// IdempotencyKey identifies the parcel: a carrier that already took a
	// parcel with this key returns it instead of taking another.
	IdempotencyKey string
	OrderID        string
	// ShippingAttempt is informational: the key, not the attempt, names
	// the parcel.
	ShippingAttempt int
	Address         domain.Address
	Items           []domain.Item
}

// Carrier hands a package to a carrier. It is the worker's only outside
// party, owned here so tests can plug in a carrier that refuses some
// addresses and the product can plug in a real one.
type Carrier interface {
	Dispatch(ctx context.Context, s Shipment) (Dispatch, error)
}

// SimulatedCarrier is a carrier that keeps its parcels in the parcels
// table, one per idempotency key: a repeated dispatch (a retried attempt, a
// second shipping attempt, an attempt whose result was lost in a crash)
// returns the parcel already taken, as a real carrier API with idempotency
// keys does. Its record survives worker crashes, so tests can check that no
// order ever got two parcels.
type SimulatedCarrier struct {
	Pool *pgxpool.Pool
}

const dispatchSQL = `
INSERT INTO parcels (idempotency_key, order_id, carrier, tracking_number, address)
VALUES ($1, $2, 'SimPost', $3, $4)
ON CONFLICT (idempotency_key) DO UPDATE SET dispatch_calls = parcels.dispatch_calls + 1
RETURNING carrier, tracking_number`

// Dispatch implements Carrier.
func (c SimulatedCarrier) Dispatch(ctx context.Context, s Shipment) (Dispatch, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Dispatch{}, err
	}
	addr, err := json.Marshal(s.Address)
	if err != nil {
		return Dispatch{}, err
	}
	var d Dispatch
	if err := c.Pool.QueryRow(ctx, dispatchSQL, s.IdempotencyKey, s.OrderID, "SP"+strings.ToUpper(hex.EncodeToString(b[:])), addr).
		Scan(&d.Carrier, &d.TrackingNumber); err != nil {
		return Dispatch{}, fmt.Errorf("record parcel %s: %w", s.IdempotencyKey, err)
	}
	return d, nil
}

// MemoryCarrier is an idempotent carrier kept in memory, for tests that run
// without a database: same key, same parcel.
type MemoryCarrier struct {
	mu      sync.Mutex
	parcels map[string]Dispatch
}

// Dispatch implements Carrier.
func (c *MemoryCarrier) Dispatch(_ context.Context, s Shipment) (Dispatch, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.parcels[s.IdempotencyKey]; ok {
		return d, nil
	}
	if c.parcels == nil {
		c.parcels = map[string]Dispatch{}
	}
	d := Dispatch{Carrier: "SimPost", TrackingNumber: fmt.Sprintf("SP%06d", len(c.parcels)+1)}
	c.parcels[s.IdempotencyKey] = d
	return d, nil
}

// Parcels is how many distinct parcels the carrier took.
func (c *MemoryCarrier) Parcels() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.parcels)
}
