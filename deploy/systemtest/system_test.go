//go:build systemtest

package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// system is the whole deployment under test.
type system struct {
	api         string
	dbURL       string
	temporal    string
	orderWorker *testenv.Container
}

// start runs PostgreSQL, NATS and the Temporal dev server, then the five
// services from their images, with the exercise's fault rates.
func start(t *testing.T) *system {
	dbURL := testenv.Postgres(t)
	ns := testenv.NATS(t)
	tsrv := testenv.StartTemporal(t)
	port := testenv.FreePort(t)
	s := &system{api: fmt.Sprintf("http://127.0.0.1:%d", port), dbURL: dbURL, temporal: tsrv.Address}
	env := func(extra ...string) map[string]string {
		m := map[string]string{
			"NATS_URL": ns.URL, "DATABASE_URL": dbURL, "TEMPORAL_ADDRESS": tsrv.Address,
			"FAULT_FAIL_RATE": "0.33", "FAULT_HANG_RATE": "0.34", "LOG_LEVEL": "warn",
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	// Each service on free ports (traffic and ops listener), ready when its
	// ops listener's /readyz answers 200: every dependency reached.
	run := func(name string, extra ...string) *testenv.Container {
		ops := testenv.FreePort(t)
		e := env(append(extra, "OPS_ADDR", fmt.Sprintf("127.0.0.1:%d", ops))...)
		return testenv.StartContainer(t, name, testenv.ServiceImage(name), e, ready(fmt.Sprintf("http://127.0.0.1:%d/readyz", ops)))
	}
	run("projector")
	s.orderWorker = run("order-worker")
	run("shipping-worker")
	run("bridge")
	run("api", "HTTP_ADDR", fmt.Sprintf("127.0.0.1:%d", port))
	return s
}

// ready polls url until it answers 200.
func ready(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %d", url, resp.StatusCode)
		}
		return nil
	}
}

func (s *system) post(t *testing.T, path, body string) int {
	t.Helper()
	resp, err := http.Post(s.api+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Errorf("POST %s: %v", path, err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestContainers sends one order through the deployed system over HTTP,
// then keeps a trickle of orders (some cancelled) flowing while the order
// worker's container is killed with SIGKILL and started again, and checks
// every order's invariants at the end.
func TestContainers(t *testing.T) {
	s := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	tc, err := client.DialContext(ctx, client.Options{HostPort: s.temporal})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()

	first := testenv.UniqueName("sys-first")
	if code := s.post(t, "/orders/"+first+"/start", `{"payment_id": "pay-`+first+`"}`); code != http.StatusAccepted {
		t.Fatalf("start: status %d, want 202", code)
	}
	if state := waitTerminal(ctx, t, db, first, 60*time.Second); state != domain.StateShipped {
		t.Fatalf("first order ended %s, want shipped", state)
	}

	// The trickle: an order every 200 ms for 12 s; every fourth is
	// cancelled right after its start (the cancel may come too late,
	// which the workflow rejects visibly; both outcomes are checked).
	var (
		mu     sync.Mutex
		orders = []string{first}
		wg     sync.WaitGroup
	)
	stop := time.After(12 * time.Second)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			id := testenv.UniqueName(fmt.Sprintf("sys%03d", i))
			if code := s.post(t, "/orders/"+id+"/start", `{"payment_id": "pay-`+id+`"}`); code != http.StatusAccepted {
				t.Errorf("start %s: status %d", id, code)
				continue
			}
			mu.Lock()
			orders = append(orders, id)
			mu.Unlock()
			if i%4 == 3 {
				if code := s.post(t, "/orders/"+id+"/signals/cancel", `{}`); code >= 500 {
					t.Errorf("cancel %s: status %d", id, code)
				}
			}
		}
	}()
	time.Sleep(3 * time.Second)
	s.orderWorker.Kill()
	// The kill must hit work in flight, or it proves nothing.
	var inFlight int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM orders WHERE NOT terminal").Scan(&inFlight); err != nil {
		t.Fatal(err)
	}
	if inFlight == 0 {
		t.Fatal("no order in flight when the order worker was killed")
	}
	t.Logf("order-worker killed (SIGKILL) with %d orders in flight", inFlight)
	time.Sleep(4 * time.Second)
	s.orderWorker.Restart()
	t.Log("order-worker restarted")
	wg.Wait()

	counts := map[domain.OrderState]int{}
	for _, id := range orders {
		state := waitTerminal(ctx, t, db, id, 90*time.Second)
		counts[state]++
		checkOrder(ctx, t, db, tc, id, state)
	}
	t.Logf("%d orders: %v", len(orders), counts)
	if counts[domain.StateShipped] == 0 {
		t.Errorf("no order shipped: %v", counts)
	}
}

// waitTerminal polls the projection until the order is terminal.
func waitTerminal(ctx context.Context, t *testing.T, db *pgx.Conn, orderID string, timeout time.Duration) domain.OrderState {
	t.Helper()
	var state string
	testenv.Eventually(t, timeout, func() (bool, string) {
		var terminal bool
		err := db.QueryRow(ctx, "SELECT state, terminal FROM orders WHERE order_id = $1", orderID).Scan(&state, &terminal)
		return err == nil && terminal, fmt.Sprintf("order %s not terminal (projection state %q)", orderID, state)
	})
	return domain.OrderState(state)
}

// checkOrder checks one terminal order's invariants: the projection agrees
// with the workflow, no charge stands on an order that did not ship, at
// most one dispatch (event and parcel), and the event log is gap-free from
// seq 1.
func checkOrder(ctx context.Context, t *testing.T, db *pgx.Conn, tc client.Client, orderID string, state domain.OrderState) {
	t.Helper()
	v, err := tc.QueryWorkflow(ctx, contracts.OrderWorkflowID(orderID), "", contracts.QueryStatus)
	if err != nil {
		t.Errorf("%s: query workflow: %v", orderID, err)
		return
	}
	var st contracts.OrderStatus
	if err := v.Get(&st); err != nil {
		t.Errorf("%s: decode status: %v", orderID, err)
		return
	}
	if st.State != state {
		t.Errorf("%s: projection says %s, workflow says %s", orderID, state, st.State)
	}

	var charged int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM payments WHERE order_id = $1 AND status = 'charged'", orderID).Scan(&charged); err != nil {
		t.Fatal(err)
	}
	switch {
	case state == domain.StateShipped && charged != 1:
		t.Errorf("%s: shipped with %d standing charges, want 1", orderID, charged)
	case state != domain.StateShipped && charged != 0:
		t.Errorf("%s: %s with %d standing charges, want 0", orderID, state, charged)
	}

	var n, minSeq, maxSeq, dispatched int
	if err := db.QueryRow(ctx, `SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0),
		count(*) FILTER (WHERE type = $2) FROM events WHERE order_id = $1`, orderID, string(contracts.EventDispatched)).
		Scan(&n, &minSeq, &maxSeq, &dispatched); err != nil {
		t.Fatal(err)
	}
	if n == 0 || minSeq != 1 || maxSeq != n {
		t.Errorf("%s: events not gap-free: %d events, seq %d..%d", orderID, n, minSeq, maxSeq)
	}
	if dispatched > 1 || (state == domain.StateCancelled && dispatched != 0) {
		t.Errorf("%s: %s with %d dispatched events", orderID, state, dispatched)
	}
	// The carrier's own record: one parcel per shipped order, none otherwise.
	var parcels int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM parcels WHERE order_id = $1", orderID).Scan(&parcels); err != nil {
		t.Fatal(err)
	}
	if (state == domain.StateShipped && parcels != 1) || (state == domain.StateCancelled && parcels != 0) || parcels > 1 {
		t.Errorf("%s: %s with %d parcels at the carrier", orderID, state, parcels)
	}
	if t.Failed() {
		b, _ := json.Marshal(st)
		t.Logf("%s workflow status: %s", orderID, b)
	}
}
