package order

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

// TestCrashesLoseNothing runs a steady trickle of orders with faults at the
// original rates (33 % fail, 34 % hang) through the real worker and
// projector binaries, each its own process, a real Temporal dev server, real
// PostgreSQL and JetStream; a quarter of the orders get a cancel at a random
// moment. Meanwhile it kills with SIGKILL, and restarts, in turn the order
// worker, the shipping worker and the Temporal server. Then, for every order:
// it is terminal; the projection holds the workflow's final state; the
// events on NATS are exactly the batches its history scheduled (same IDs,
// types and order, seq gap-free, ending in the final state); no charge
// stands on a cancelled or failed order; the carrier took at most one
// parcel, and a shipped order's tracking number is that parcel's.
func TestCrashesLoseNothing(t *testing.T) {
	bin := filepath.Join(testenv.RepoRoot(t), ".bin")
	for _, name := range []string{"order-worker", "shipping-worker", "projector"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Fatalf("%s/%s missing: run `make build` first (make test does)", bin, name)
		}
	}
	temporal := testenv.StartTemporal(t)
	dbURL := testenv.Postgres(t)
	ns := testenv.NATS(t)
	js := ns.JetStream(ns.Conn())
	pool := testenv.Pool(t, dbURL)
	// Errors only: the client warns at every retry while the server is down.
	c := testenv.TemporalClient(t, temporal.Address, testenv.LoggerAt(t, slog.LevelError))

	ordersTQ, shippingTQ := testenv.UniqueName("orders"), testenv.UniqueName("shipping")
	env := []string{
		"NATS_URL=" + ns.URL, "DATABASE_URL=" + dbURL, "TEMPORAL_ADDRESS=" + temporal.Address,
		"ORDERS_TASK_QUEUE=" + ordersTQ, "SHIPPING_TASK_QUEUE=" + shippingTQ,
		"FAULT_FAIL_RATE=0.33", "FAULT_HANG_RATE=0.34", "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=2s",
		"OPS_ADDR=127.0.0.1:0", // any free port: the defaults may be taken by a `make run` or another test
	}
	procs := map[string]*testenv.Process{}
	for _, name := range []string{"projector", "order-worker", "shipping-worker"} {
		procs[name] = testenv.StartProcess(t, testenv.ProcessSpec{Name: name, Path: filepath.Join(bin, name), Env: append(os.Environ(), env...)})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const orders, every = 90, 400 * time.Millisecond // 36 s of arrivals
	prefix := testenv.UniqueName("crash")
	ids := make([]string, 0, orders)
	var wg sync.WaitGroup

	// The crashes, while orders arrive.
	crashes := []struct {
		after time.Duration
		what  string
		down  time.Duration
	}{{6 * time.Second, "order-worker", 2 * time.Second}, {16 * time.Second, "shipping-worker", 3 * time.Second}, {26 * time.Second, "temporal", 3 * time.Second}}
	begin := time.Now()
	wg.Go(func() {
		for _, cr := range crashes {
			time.Sleep(time.Until(begin.Add(cr.after)))
			t.Logf("%v: SIGKILL %s, down for %v", time.Since(begin).Round(time.Millisecond), cr.what, cr.down)
			if cr.what == "temporal" {
				temporal.Kill()
			} else {
				procs[cr.what].Kill()
			}
			time.Sleep(cr.down)
			if cr.what == "temporal" {
				if err := temporal.Start(); err != nil {
					t.Errorf("restart temporal: %v", err)
				}
			} else if err := procs[cr.what].Start(); err != nil {
				t.Errorf("restart %s: %v", cr.what, err)
			}
		}
	})

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range orders {
		in := orderInput(fmt.Sprintf("%s-%d", prefix, i))
		in.AcceptedAt = time.Now()
		ids = append(ids, in.OrderID)
		opts := client.StartWorkflowOptions{
			ID: contracts.OrderWorkflowID(in.OrderID), TaskQueue: ordersTQ,
			Memo: map[string]any{contracts.MemoPaymentID: in.PaymentID}, WorkflowTaskTimeout: contracts.OrderWorkflowTaskTimeout,
		}
		// The Temporal server may be down: the start is retried, as the
		// bridge retries a command.
		retryUntil(ctx, t, "start "+in.OrderID, func(ctx context.Context) error {
			_, err := c.ExecuteWorkflow(ctx, opts, contracts.WorkflowOrder, in)
			if err != nil && isAlreadyStarted(err) {
				return nil
			}
			return err
		})
		if rng.IntN(4) == 0 {
			delay := time.Duration(rng.IntN(4000)) * time.Millisecond
			wg.Go(func() {
				time.Sleep(delay)
				retryUntil(ctx, t, "cancel "+in.OrderID, func(ctx context.Context) error {
					err := c.SignalWorkflow(ctx, contracts.OrderWorkflowID(in.OrderID), "", contracts.SignalCancel,
						contracts.SignalPayload{CommandID: "cancel-" + in.OrderID, Reason: "crash test"})
					var notFound *serviceerror.NotFound
					if errors.As(err, &notFound) {
						return nil // the order had finished: the cancel came too late
					}
					return err
				})
			})
		}
		time.Sleep(time.Until(begin.Add(time.Duration(i+1) * every)))
	}
	wg.Wait()

	// Every order ends; its final status comes from Temporal.
	final := map[string]contracts.OrderStatus{}
	for _, id := range ids {
		var st contracts.OrderStatus
		retryUntil(ctx, t, "result of "+id, func(ctx context.Context) error {
			var err error
			st, err = finalStatus(ctx, c.GetWorkflow(ctx, contracts.OrderWorkflowID(id), ""))
			return err
		})
		if !st.State.Terminal() {
			t.Fatalf("order %s ended in state %q", id, st.State)
		}
		final[id] = st
	}

	// Events on NATS equal the batches the history scheduled.
	stream := allEvents(t, js)
	states := map[domain.OrderState]int{}
	for _, id := range ids {
		st := final[id]
		states[st.State]++
		scheduled := scheduledEvents(ctx, t, c, contracts.OrderWorkflowID(id))
		got := stream[id]
		if len(got) != len(scheduled) {
			t.Fatalf("order %s: %d events on NATS, %d scheduled in history", id, len(got), len(scheduled))
		}
		for i := range got {
			if got[i].ID != scheduled[i].ID || got[i].Type != scheduled[i].Type {
				t.Fatalf("order %s event %d: NATS has %s %s, history %s %s", id, i, got[i].ID, got[i].Type, scheduled[i].ID, scheduled[i].Type)
			}
		}
		types := eventTypes(t, got)
		if types[len(types)-1] != contracts.EventType(st.State) || got[len(got)-1].Order.State != st.State {
			t.Fatalf("order %s: events %v do not end in %s", id, types, st.State)
		}
	}

	// The projection catches up to every workflow's final state.
	deadline, _ := ctx.Deadline()
	testenv.Eventually(t, time.Until(deadline), func() (bool, string) {
		for _, id := range ids {
			var state string
			if err := pool.QueryRow(ctx, `SELECT state FROM orders WHERE order_id = $1`, id).Scan(&state); err != nil || state != string(final[id].State) {
				return false, fmt.Sprintf("projection of %s: %q (err %v), want %s", id, state, err, final[id].State)
			}
		}
		return true, ""
	})

	// Money and parcels.
	for _, id := range ids {
		st := final[id]
		var status string
		err := pool.QueryRow(ctx, `SELECT status FROM payments WHERE order_id = $1`, id).Scan(&status)
		if st.State != domain.StateShipped && err == nil && status == PaymentStatusCharged {
			t.Fatalf("order %s ended %s with its payment charged", id, st.State)
		}
		if st.State == domain.StateShipped && status != PaymentStatusCharged {
			t.Fatalf("order %s shipped with payment %q", id, status)
		}
		var parcels int
		var tracking string
		if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(min(tracking_number), '') FROM parcels WHERE order_id = $1`, id).Scan(&parcels, &tracking); err != nil {
			t.Fatal(err)
		}
		if parcels > 1 {
			t.Fatalf("order %s: the carrier took %d parcels", id, parcels)
		}
		if st.State == domain.StateShipped && (parcels != 1 || st.Shipping.TrackingNumber != tracking) {
			t.Fatalf("order %s shipped with tracking %q, carrier has %d parcels (%q)", id, st.Shipping.TrackingNumber, parcels, tracking)
		}
	}
	t.Logf("%d orders through 3 crashes: %v", len(ids), states)
}

// scheduledEvents decodes the input of every PublishEvents activity the
// workflow's history scheduled, in order, de-duplicating a batch scheduled
// again after a publish round ran over its budget.
func scheduledEvents(ctx context.Context, t *testing.T, c client.Client, workflowID string) []contracts.Event {
	t.Helper()
	var out []contracts.Event
	seen := map[string]bool{}
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil || a.GetActivityType().GetName() != "PublishEvents" {
			continue
		}
		var batch []contracts.Event
		if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &batch); err != nil {
			t.Fatalf("history of %s: decode PublishEvents input: %v", workflowID, err)
		}
		for _, ev := range batch {
			if !seen[ev.ID] {
				seen[ev.ID] = true
				out = append(out, ev)
			}
		}
	}
	return out
}

// retryUntil retries f while the stack recovers from a crash. Each try has
// its own timeout: the SDK retries a call to an unreachable server until
// its context ends.
func retryUntil(ctx context.Context, t *testing.T, what string, f func(ctx context.Context) error) {
	t.Helper()
	if err := testenv.Retry(ctx, 15*time.Second, f); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

func isAlreadyStarted(err error) bool {
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	return errors.As(err, &already)
}
