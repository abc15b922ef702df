package bridge_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	orderworker "github.com/orderflow/orderflow/services/order-worker/order"
	shippingworker "github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/testenv"
)

// startWorkers runs the real order and shipping workers in process, faults
// off, on the bridge's private task queues, with pool for payments. It
// returns a stop that ends both workers (it is also run at cleanup).
func startWorkers(t *testing.T, tc client.Client, cfg bridge.Config, js jetstream.JetStream, pool *pgxpool.Pool) func() {
	t.Helper()
	ocfg, err := config.Load[orderworker.Config]()
	if err != nil {
		t.Fatal(err)
	}
	scfg, err := config.Load[shippingworker.Config]()
	if err != nil {
		t.Fatal(err)
	}
	ocfg.Temporal, scfg.Temporal = cfg.Temporal, cfg.Temporal
	ocfg.Shutdown.Timeout, scfg.Shutdown.Timeout = 5*time.Second, 5*time.Second

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	log := testenv.Logger(t)
	wg.Go(func() {
		if err := orderworker.RunWorker(ctx, ocfg, tc, pool, js, log); err != nil {
			t.Errorf("order worker: %v", err)
		}
	})
	wg.Go(func() {
		if err := shippingworker.RunWorker(ctx, scfg, tc, pool, log); err != nil {
			t.Errorf("shipping worker: %v", err)
		}
	})
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}
