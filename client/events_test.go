package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/client"
)

func connect(t *testing.T) (*client.Client, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c, err := client.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	return c, js
}

// collect runs Events until it has n events or the timeout passes.
func collect(t *testing.T, c *client.Client, opts client.SubscribeOptions, n int) []client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []client.Event
	err := c.Events(ctx, opts, func(e client.Event) error {
		got = append(got, e)
		if len(got) == n {
			return client.Stop
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if len(got) != n {
		t.Fatalf("got %d events, want %d", len(got), n)
	}
	return got
}

// TestDurableResumesWhereItStopped: a durable subscriber that stopped after
// an event gets the following ones, and only those, next time.
func TestDurableResumesWhereItStopped(t *testing.T) {
	c, js := connect(t)
	publishEvent(js, "durable-1", 1, client.EventReceived, client.StateReceived)
	publishEvent(js, "durable-1", 2, client.EventValidated, client.StateValidated)
	publishEvent(js, "durable-1", 3, client.EventApproved, client.StateApproved)
	opts := client.SubscribeOptions{OrderID: "durable-1", Durable: "test-durable-1"}
	if got := collect(t, c, opts, 2); got[1].Seq != 2 {
		t.Fatalf("first run ended at seq %d", got[1].Seq)
	}
	publishEvent(js, "durable-1", 4, client.EventPaymentCharged, client.StatePaid)
	got := collect(t, c, opts, 2)
	if got[0].Seq != 3 || got[1].Seq != 4 {
		t.Fatalf("resumed with seq %d, %d; want 3, 4", got[0].Seq, got[1].Seq)
	}
}

// TestHandlerErrorRedelivers: an event whose handler failed is handed over
// again to the durable consumer.
func TestHandlerErrorRedelivers(t *testing.T) {
	c, js := connect(t)
	publishEvent(js, "durable-2", 1, client.EventReceived, client.StateReceived)
	opts := client.SubscribeOptions{OrderID: "durable-2", Durable: "test-durable-2"}
	boom := errors.New("database down")
	err := c.Events(context.Background(), opts, func(client.Event) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Events = %v, want the handler's error", err)
	}
	if got := collect(t, c, opts, 1); got[0].Seq != 1 {
		t.Fatalf("redelivered seq %d", got[0].Seq)
	}
}

// TestFilters: by type across orders, from a stream sequence and from a time.
func TestFilters(t *testing.T) {
	c, js := connect(t)
	publishEvent(js, "filter-a", 1, client.EventReceived, client.StateReceived)
	publishEvent(js, "filter-b", 1, client.EventReceived, client.StateReceived)
	publishEvent(js, "filter-a", 2, client.EventFailed, client.StateFailed)
	publishEvent(js, "filter-b", 2, client.EventFailed, client.StateFailed)
	got := collect(t, c, client.SubscribeOptions{Type: client.EventFailed}, 2)
	if got[0].OrderID != "filter-a" || got[1].OrderID != "filter-b" || got[0].Type != client.EventFailed {
		t.Fatalf("by type: %+v", got)
	}
	s, err := js.Stream(context.Background(), client.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.GetLastMsgForSubject(context.Background(), client.EventSubject("filter-b", client.EventFailed))
	if err != nil {
		t.Fatal(err)
	}
	got = collect(t, c, client.SubscribeOptions{StartSeq: last.Sequence}, 1)
	if got[0].OrderID != "filter-b" || got[0].Seq != 2 {
		t.Fatalf("from sequence %d: %+v", last.Sequence, got[0])
	}
	// From a time: the stored time of filter-b's failed event.
	got = collect(t, c, client.SubscribeOptions{StartTime: last.Time}, 1)
	if got[0].OrderID != "filter-b" || got[0].Seq != 2 {
		t.Fatalf("from time %s: %+v", last.Time, got[0])
	}
	if err := c.Events(context.Background(), client.SubscribeOptions{StartSeq: 1, StartTime: last.Time}, nil); err == nil {
		t.Fatal("StartSeq and StartTime together were accepted")
	}
	if err := c.Events(context.Background(), client.SubscribeOptions{OrderID: "bad.id"}, nil); err == nil {
		t.Fatal("a dotted order ID was accepted")
	}
}
