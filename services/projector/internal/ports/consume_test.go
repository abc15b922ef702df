package ports

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/services/projector/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// panicky panics on the first panicsMax calls for one event; it records
// every other event as projected.
type panicky struct {
	mu        sync.Mutex
	panicFor  string
	panicsMax int
	calls     map[string]int
	projected map[string]bool
}

func (p *panicky) Project(_ context.Context, ev app.Event) error {
	p.mu.Lock()
	p.calls[ev.ID]++
	n := p.calls[ev.ID]
	p.mu.Unlock()
	if ev.ID == p.panicFor && n <= p.panicsMax {
		panic("projector bug")
	}
	p.mu.Lock()
	p.projected[ev.ID] = true
	p.mu.Unlock()
	return nil
}

func (p *panicky) state() (calls map[string]int, projected map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls, projected = map[string]int{}, map[string]bool{}
	for k, v := range p.calls {
		calls[k] = v
	}
	for k, v := range p.projected {
		projected[k] = v
	}
	return calls, projected
}

// A handler that keeps panicking takes neither the router nor the message
// down: Recoverer makes the panic an ordinary failure, so it goes through
// the retries and, with PROJECTOR_MAX_DELIVERIES, ends as a dead letter
// while the events behind it are projected. (Watermill's router recovers a
// panic on its own too, but only by nacking the message past every
// middleware: redelivered forever, never dead-lettered.)
func TestConsumeDeadLettersAnEventWhoseHandlerKeepsPanicking(t *testing.T) {
	ns := testenv.NATS(t)
	js := ns.JetStream(ns.Conn())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := js.CreateOrUpdateConsumer(ctx, contracts.StreamEvents, jetstream.ConsumerConfig{
		Durable: "panic-test", FilterSubject: contracts.EventsWildcard,
		DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckExplicitPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, orderID := range []string{"o-panic", "o-next"} {
		ev := contracts.Event{
			ID: contracts.EventID(orderID, 1), SchemaVersion: contracts.EventSchemaVersion, Type: contracts.EventReceived,
			OrderID: orderID, Seq: 1, Time: time.Now().UTC(), WorkflowID: contracts.OrderWorkflowID(orderID),
			Order: contracts.OrderStatus{OrderID: orderID, State: domain.StateReceived},
		}
		m, err := natsx.EventMsg(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}

	p := &panicky{panicFor: ids[0], panicsMax: 1 << 30, calls: map[string]int{}, projected: map[string]bool{}}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	log := testenv.Logger(t)
	go func() {
		done <- Consume(runCtx, ns.Conn(), js, p, ConsumerOptions{
			Durable: "panic-test", AckWait: 30 * time.Second, Concurrency: 1, MaxAckPending: 16,
			Retries: 1, MaxDeliveries: 2, RedeliveryMaxDelay: 200 * time.Millisecond, CloseTimeout: 5 * time.Second,
		}, log)
	}()

	dlq, err := js.Stream(ctx, contracts.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	for {
		calls, projected := p.state()
		dead, err := dlq.GetLastMsgForSubject(ctx, contracts.DLQEvents)
		if err == nil && projected[ids[1]] {
			if got := dead.Header.Get(contracts.HeaderOriginalSubject); got != contracts.EventSubject("o-panic", contracts.EventReceived) {
				t.Errorf("dead letter of %q, want the panicking event's", got)
			}
			if reason := dead.Header.Get(contracts.HeaderReason); !strings.Contains(reason, "projector bug") {
				t.Errorf("dead-letter reason %.200q does not name the panic", reason)
			}
			// Two deliveries with one in-process retry each.
			if calls[ids[0]] != 4 {
				t.Errorf("the panicking event was handled %d times, want 4", calls[ids[0]])
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Consume returned while running: %v", err)
		case <-ctx.Done():
			t.Fatalf("no dead letter, or the next event not projected: calls %v, projected %v", calls, projected)
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Consume after stop: %v", err)
	}
}
