// Package faults simulates an unreliable world for the business steps of the
// order lifecycle: with configured probabilities a step fails at once or hangs
// until its context ends. Each decision is a pure function of (seed, key,
// step, attempt), so a seeded run makes the same decisions whatever the
// concurrency or scheduling, and a retry (next attempt) gets a fresh draw.
package faults

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
)

// Config sets the fault probabilities. The run command (deploy/devstack) sets the original
// exercise's 0.33 / 0.34; zero turns faults off.
type Config struct {
	FailRate float64 `env:"FAULT_FAIL_RATE" envDefault:"0"`
	HangRate float64 `env:"FAULT_HANG_RATE" envDefault:"0"`
	// Seed makes decisions reproducible; 0 picks a random seed at start.
	Seed int64 `env:"FAULT_SEED" envDefault:"0"`
}

// Validate rejects probabilities that cannot be honoured.
func (c Config) Validate() error {
	switch {
	case c.FailRate < 0 || c.FailRate > 1:
		return fmt.Errorf("FAULT_FAIL_RATE %v is not within [0,1]", c.FailRate)
	case c.HangRate < 0 || c.HangRate > 1:
		return fmt.Errorf("FAULT_HANG_RATE %v is not within [0,1]", c.HangRate)
	case c.FailRate+c.HangRate > 1:
		return fmt.Errorf("FAULT_FAIL_RATE + FAULT_HANG_RATE = %v is more than 1", c.FailRate+c.HangRate)
	}
	return nil
}

// ErrInjected marks a failure made up by the injector, so logs and tests can
// tell a simulated fault from a real one.
var ErrInjected = errors.New("injected fault")

// Decision is what the injector does to one attempt.
type Decision int

// Decisions.
const (
	Pass Decision = iota
	Fail
	Hang
)

func (d Decision) String() string {
	switch d {
	case Fail:
		return "fail"
	case Hang:
		return "hang"
	}
	return "pass"
}

// Injector decides and applies faults. The zero value and a nil *Injector
// inject nothing, so code paths without faults need no special case.
type Injector struct {
	cfg  Config
	seed int64
}

// New returns an injector for cfg; a zero seed is replaced by a random one.
func New(cfg Config) *Injector {
	seed := cfg.Seed
	for seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]))
	}
	return &Injector{cfg: cfg, seed: seed}
}

// Seed is the seed in use (logged at start so a run can be reproduced).
func (i *Injector) Seed() int64 {
	if i == nil {
		return 0
	}
	return i.seed
}

// Decide returns the decision for one attempt without applying it.
func (i *Injector) Decide(step, key string, attempt int) Decision {
	if i == nil || (i.cfg.FailRate == 0 && i.cfg.HangRate == 0) {
		return Pass
	}
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i.seed))
	_, _ = h.Write(b[:])
	for _, s := range []string{key, step, strconv.Itoa(attempt)} {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	// Finalise with a 64-bit mixer: FNV's low-entropy tail would otherwise
	// bias draws for keys that differ only in their last characters.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	u := float64(x>>11) / float64(1<<53)
	switch {
	case u < i.cfg.FailRate:
		return Fail
	case u < i.cfg.FailRate+i.cfg.HangRate:
		return Hang
	}
	return Pass
}

// Inject applies the decision for one attempt: nil to go on, an error
// wrapping ErrInjected at once, or, for a hang, blocking until ctx ends and
// returning ctx's error. A hang starts no goroutine, so nothing leaks.
func (i *Injector) Inject(ctx context.Context, step, key string, attempt int) error {
	switch i.Decide(step, key, attempt) {
	case Fail:
		return fmt.Errorf("%s attempt %d: %w", step, attempt, ErrInjected)
	case Hang:
		<-ctx.Done()
		return fmt.Errorf("%s attempt %d: injected hang: %w", step, attempt, ctx.Err())
	}
	return nil
}
