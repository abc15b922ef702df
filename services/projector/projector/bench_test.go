package projector_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/testenv"
)

// BenchmarkProjector measures events per second from a backlog in real
// JetStream to rows in real PostgreSQL, batched (the default) against one
// transaction per event, with everything else equal. b.N is the number of
// events; run with a fixed count, e.g.
//
//	go test ./projector -run '^$' -bench Projector -benchtime 4000x
func BenchmarkProjector(b *testing.B) {
	for _, mode := range []struct {
		name      string
		batchSize int // 0: the default
	}{
		{"batched", 0},
		{"single", 1},
	} {
		b.Run(mode.name, func(b *testing.B) {
			events := benchEvents(b.N)
			e := testenv.New(b)
			publish(b, e.JS, events, false)
			cfg := testConfig(b, e)
			if mode.batchSize > 0 {
				cfg.BatchSize = mode.batchSize
			}
			ctx := context.Background()

			b.ResetTimer()
			start := time.Now()
			startProjector(b, cfg, e.Pool)
			testenv.Eventually(b, 10*time.Minute, func() (bool, string) {
				n, err := countEvents(ctx, e.Pool)
				return n == len(events) && err == nil, fmt.Sprintf("backlog projected: %d of %d events (err %v)", n, len(events), err)
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(len(events))/elapsed.Seconds(), "events/s")
		})
	}
}

// benchEvents is exactly n events of realistic orders, interleaved.
func benchEvents(n int) []contracts.Event {
	w := newWorkload(fmt.Sprintf("bench%d", time.Now().UnixNano()%1e6), n/8+1, 9)
	out := make([]contracts.Event, 0, n)
	for _, ev := range w.all {
		if len(out) == n {
			break
		}
		out = append(out, ev)
	}
	return out
}
