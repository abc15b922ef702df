package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ReadStream returns every message stored in stream now, in stream order,
// limited to subjects (none: all of them). It reads with an ordered
// consumer, which leaves no state on the server.
func ReadStream(t testing.TB, js jetstream.JetStream, stream string, subjects ...string) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: subjects})
	if err != nil {
		t.Fatalf("testenv: read %s: %v", stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatalf("testenv: read %s: %v", stream, err)
	}
	out := make([]jetstream.Msg, 0, info.NumPending)
	for uint64(len(out)) < info.NumPending {
		batch, err := cons.Fetch(int(min(info.NumPending-uint64(len(out)), 1000)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("testenv: read %s: %v", stream, err)
		}
		got := 0
		for m := range batch.Messages() {
			out = append(out, m)
			got++
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("testenv: read %s: %v", stream, err)
		}
		if got == 0 {
			t.Fatalf("testenv: read %s: %d of %d messages, then none", stream, len(out), info.NumPending)
		}
	}
	return out
}

// StreamInfo returns stream's info as the server has it now (message and
// consumer counts, sequences), not a cached copy.
func StreamInfo(t testing.TB, js jetstream.JetStream, stream string) *jetstream.StreamInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("testenv: stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("testenv: stream %s info: %v", stream, err)
	}
	return info
}
