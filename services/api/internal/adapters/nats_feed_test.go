package adapters

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func publishEvents(t *testing.T, ctx context.Context, f *Feed, orderID string, n int) {
	t.Helper()
	for seq := int64(1); seq <= int64(n); seq++ {
		msg, err := natsx.EventMsg(contracts.Event{ID: contracts.EventID(orderID, seq), SchemaVersion: contracts.EventSchemaVersion,
			Type: contracts.EventReceived, OrderID: orderID, Seq: seq, Time: time.Now().UTC(),
			Order: contracts.OrderStatus{OrderID: orderID, State: domain.StateReceived}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
}

// consumers counts the consumers on the events stream: the feed's, or none.
func consumers(t *testing.T, f *Feed) int {
	t.Helper()
	return testenv.StreamInfo(t, f.js, contracts.StreamEvents).State.Consumers
}

// TestFeedFansOutAndStopsWhenIdle: two subscribers get the same events in
// order, a subscriber that falls a buffer behind is cut off (its channel
// closes), and the consumer exists only while someone subscribes.
func TestFeedFansOutAndStopsWhenIdle(t *testing.T) {
	ns := testenv.NATS(t)
	f := NewFeed(ns.JetStream(ns.Conn()), testenv.Logger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fast, stopFast, err := f.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slow, stopSlow, err := f.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := consumers(t, f); n != 1 {
		t.Fatalf("%d consumers for two subscribers, want one shared", n)
	}
	fastGot := make(chan []int64, 1)
	go func() {
		var seqs []int64
		for e := range fast {
			seqs = append(seqs, e.Seq)
			if len(seqs) == feedBuffer+10 {
				break
			}
		}
		fastGot <- seqs
	}()
	publishEvents(t, ctx, f, "feed-1", feedBuffer+10)
	select {
	case seqs := <-fastGot:
		for i, seq := range seqs {
			if seq != int64(i+1) {
				t.Fatalf("fast subscriber got seq %d at %d", seq, i)
			}
		}
	case <-ctx.Done():
		t.Fatal("fast subscriber stalled")
	}
	got := 0
	for range slow {
		got++
	}
	if got != feedBuffer {
		t.Fatalf("slow subscriber got %d events before being cut off, want %d", got, feedBuffer)
	}
	stopSlow() // already cut off: harmless
	stopFast()
	testenv.Eventually(t, 10*time.Second, func() (bool, string) {
		return consumers(t, f) == 0, "consumer still there after the last subscriber left"
	})
}
