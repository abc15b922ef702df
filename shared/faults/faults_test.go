package faults

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestDecisionsAreReproducibleAndMatchRates(t *testing.T) {
	in := New(Config{FailRate: 0.33, HangRate: 0.34, Seed: 42})
	again := New(Config{FailRate: 0.33, HangRate: 0.34, Seed: 42})
	other := New(Config{FailRate: 0.33, HangRate: 0.34, Seed: 43})
	const n = 30000
	counts := map[Decision]int{}
	differ := 0
	for k := range n {
		key := "order-" + string(rune('a'+k%26)) + time.Duration(k).String()
		d := in.Decide("charge_payment", key, k%5+1)
		if d != again.Decide("charge_payment", key, k%5+1) {
			t.Fatalf("same seed, different decision for %s", key)
		}
		if d != other.Decide("charge_payment", key, k%5+1) {
			differ++
		}
		counts[d]++
	}
	for d, want := range map[Decision]float64{Fail: 0.33, Hang: 0.34, Pass: 0.33} {
		got := float64(counts[d]) / n
		if got < want-0.02 || got > want+0.02 {
			t.Errorf("%s rate = %.3f, want %.2f±0.02", d, got, want)
		}
	}
	if differ < n/3 {
		t.Errorf("another seed changed only %d of %d decisions", differ, n)
	}
}

func TestZeroRatesAndNilInjectNothing(t *testing.T) {
	var nilInj *Injector
	for _, in := range []*Injector{nilInj, New(Config{})} {
		for a := 1; a < 100; a++ {
			if err := in.Inject(context.Background(), "s", "k", a); err != nil {
				t.Fatalf("attempt %d: %v", a, err)
			}
		}
	}
}

func TestInjectFailsAtOnceAndHangsUntilContextEnds(t *testing.T) {
	fail := New(Config{FailRate: 1, Seed: 1})
	if err := fail.Inject(context.Background(), "s", "k", 1); !errors.Is(err, ErrInjected) {
		t.Fatalf("fail: got %v, want ErrInjected", err)
	}
	hang := New(Config{HangRate: 1, Seed: 1})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := hang.Inject(ctx, "s", "k", 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: got %v, want deadline exceeded", err)
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("hang returned after %v, before the context ended", el)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines: %d before, %d after a hang", before, after)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{FailRate: -0.1}, {HangRate: 1.1}, {FailRate: 0.6, HangRate: 0.5}} {
		if c.Validate() == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
	if err := (Config{FailRate: 0.33, HangRate: 0.34}).Validate(); err != nil {
		t.Errorf("original rates: %v", err)
	}
}
