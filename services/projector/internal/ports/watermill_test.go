package ports

import (
	"testing"
	"time"
)

func TestBackoffGrowsToItsCap(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	for delivered, want := range map[uint64]time.Duration{
		0: 100 * time.Millisecond, 1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 1000: time.Second,
	} {
		if got := b.WaitTime(delivered); got != want {
			t.Errorf("WaitTime(%d) = %s, want %s", delivered, got, want)
		}
	}
}
