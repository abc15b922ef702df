package ports

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/shared/testenv"
)

// fakeMsg is a delivered command as dispatch sees it.
type fakeMsg struct {
	jetstream.Msg
	subject   string
	pin       string
	stream    uint64
	delivery  uint64
	delivered uint64
}

func (m *fakeMsg) Subject() string { return m.subject }
func (m *fakeMsg) Nak() error      { return nil }
func (m *fakeMsg) Headers() nats.Header {
	h := nats.Header{}
	if m.pin != "" {
		h.Set(pinIDHeader, m.pin)
	}
	return h
}
func (m *fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{
		Sequence:     jetstream.SequencePair{Stream: m.stream, Consumer: m.delivery},
		NumDelivered: max(m.delivered, 1),
	}, nil
}

// fakeConsumer answers Info with an ack floor the test moves.
type fakeConsumer struct {
	jetstream.Consumer
	mu    sync.Mutex
	floor uint64
}

func (c *fakeConsumer) setFloor(seq uint64) {
	c.mu.Lock()
	c.floor = seq
	c.mu.Unlock()
}

func (c *fakeConsumer) Info(context.Context) (*jetstream.ConsumerInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &jetstream.ConsumerInfo{AckFloor: jetstream.SequenceInfo{Stream: c.floor}}, nil
}

func fencedSeqs(c *Consumer) map[uint64]bool {
	out := map[uint64]bool{}
	for _, p := range c.parts {
		p.mu.Lock()
		for _, e := range p.queue {
			out[e.seq] = e.fenced
		}
		p.mu.Unlock()
	}
	return out
}

func newFenceConsumer(t *testing.T) (*Consumer, *fakeConsumer) {
	cons := &fakeConsumer{}
	c := NewConsumer(nil, nil, nil, ConsumerOptions{Partitions: 2, AckWait: 30 * time.Second, ReorderWindow: time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.cons = cons
	return c, cons
}

func cmd(pin string, stream, delivery uint64) *fakeMsg {
	return &fakeMsg{subject: fmt.Sprintf("orders.commands.o-%d.update-address", stream%3), pin: pin, stream: stream, delivery: delivery}
}

// A delivery that never reaches the pinned bridge comes back only after
// AckWait, behind newer commands: the gap in the delivery sequence fences
// the newer ones until every older command is settled.
func TestMissedDeliveryFencesNewerCommands(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, cons := newFenceConsumer(t)

	c.dispatch(ctx, cmd("p1", 1, 1)) // pinned with nothing older unsettled: no fence
	c.dispatch(ctx, cmd("p1", 2, 2))
	cons.setFloor(1)
	// Delivery 3 (stream 3) was lost in flight; 4 arrives.
	c.dispatch(ctx, cmd("p1", 4, 4))
	c.dispatch(ctx, cmd("p1", 5, 5))
	got := fencedSeqs(c)
	if got[2] || !got[4] || !got[5] {
		t.Fatalf("fenced %v, want 4 and 5 held and 2 free", got)
	}
	// Stream 3 comes back (redelivered) and is not held: it is older.
	c.dispatch(ctx, &fakeMsg{subject: "orders.commands.o-0.update-address", pin: "p1", stream: 3, delivery: 6, delivered: 2})
	if fencedSeqs(c)[3] {
		t.Fatal("the redelivered older command is held by the fence")
	}
	// Once everything before 4 is settled the fence lifts.
	cons.setFloor(3)
	testenv.Eventually(t, 5*time.Second, func() (bool, string) {
		got := fencedSeqs(c)
		return !got[4] && !got[5], fmt.Sprint(got)
	})
	if !c.fence.hold(7).IsZero() {
		t.Fatal("fence still stands")
	}
}

// A gap with every older command already settled (or a first delivery under
// a new pin) raises no fence: there is nothing to wait for.
func TestGapWithOlderCommandsSettledRaisesNoFence(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, cons := newFenceConsumer(t)
	cons.setFloor(8)
	c.dispatch(ctx, cmd("p1", 5, 5))
	c.dispatch(ctx, cmd("p1", 9, 9))
	// A new pin jumps the delivery sequence without a gap being counted.
	cons.setFloor(9)
	c.dispatch(ctx, cmd("p2", 10, 20))
	c.dispatch(ctx, cmd("p2", 11, 21))
	for seq, fenced := range fencedSeqs(c) {
		if fenced {
			t.Fatalf("command %d fenced with every older command settled", seq)
		}
	}
}

// Without the pin header (no priority policy) deliveries to other consumers
// of the durable are normal, so gaps mean nothing.
func TestGapWithoutPinIsIgnored(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := newFenceConsumer(t)
	c.dispatch(ctx, cmd("", 1, 1))
	c.dispatch(ctx, cmd("", 4, 4))
	if fencedSeqs(c)[4] {
		t.Fatal("fenced on a gap without a pin")
	}
}
