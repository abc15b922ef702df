package natsx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/shared/config"
)

// StreamConfigsWith is the contract's streams (StreamConfigs) with the
// operator's replicas and limits. It refuses a limit for a stream the
// contract does not have, so a typo is not silently ignored.
func StreamConfigsWith(s config.Streams) ([]jetstream.StreamConfig, error) {
	if s.Replicas < 1 || s.Replicas > 5 {
		return nil, fmt.Errorf("NATS_STREAM_REPLICAS must be 1 to 5 (JetStream's limit), not %d", s.Replicas)
	}
	cfgs := StreamConfigs()
	known := map[string]bool{}
	for _, c := range cfgs {
		known[c.Name] = true
	}
	for variable, keys := range map[string][]string{
		"NATS_STREAM_MAX_AGE":          mapKeys(s.MaxAge),
		"NATS_STREAM_MAX_BYTES":        mapKeys(s.MaxBytes),
		"NATS_STREAM_DUPLICATE_WINDOW": mapKeys(s.Duplicates),
	} {
		for _, k := range keys {
			if !known[k] {
				return nil, fmt.Errorf("%s: no stream %q in the contract", variable, k)
			}
		}
	}
	for i := range cfgs {
		c := &cfgs[i]
		c.Replicas = s.Replicas
		if v, ok := s.MaxAge[c.Name]; ok {
			if v < 0 {
				return nil, fmt.Errorf("NATS_STREAM_MAX_AGE %s: negative", c.Name)
			}
			c.MaxAge = v
		}
		if v, ok := s.MaxBytes[c.Name]; ok {
			if v == 0 || v < -1 {
				return nil, fmt.Errorf("NATS_STREAM_MAX_BYTES %s: want a positive size or -1 (no limit), not %d", c.Name, v)
			}
			c.MaxBytes = v
		}
		if v, ok := s.Duplicates[c.Name]; ok {
			if v <= 0 {
				return nil, fmt.Errorf("NATS_STREAM_DUPLICATE_WINDOW %s: must be positive", c.Name)
			}
			c.Duplicates = v
		}
		// JetStream refuses a deduplication window longer than the age limit.
		if c.MaxAge > 0 && c.Duplicates > c.MaxAge {
			return nil, fmt.Errorf("stream %s: duplicate window %s exceeds max age %s", c.Name, c.Duplicates, c.MaxAge)
		}
	}
	return cfgs, nil
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ProvisionStreams creates each stream or updates it to its configuration.
// On a cluster an update also moves a stream to its new replica count.
// Each request is bounded and retried while the cluster is electing
// leaders (a just-started cluster answers late or not at all), until ctx
// ends.
func ProvisionStreams(ctx context.Context, js jetstream.JetStream, cfgs []jetstream.StreamConfig) error {
	for _, cfg := range cfgs {
		for {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := js.CreateOrUpdateStream(actx, cfg)
			cancel()
			if err == nil {
				break
			}
			if !transient(err) || ctx.Err() != nil {
				return fmt.Errorf("provision stream %s: %w", cfg.Name, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("provision stream %s: %w", cfg.Name, err)
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// transient reports whether a JetStream API error may pass once the
// cluster has its leaders: a timeout, nobody answering, or "temporarily
// unavailable".
func transient(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) || (errors.As(err, &apiErr) && apiErr.Code == 503)
}

// StreamCheck is one stream as found, compared with what it should be.
type StreamCheck struct {
	Name    string
	Missing bool
	// Diffs are settings that differ from the wanted ones.
	Diffs []string
	// Unhealthy lists replicas that are offline or behind the leader.
	Unhealthy []string
	Msgs      uint64
	Replicas  int
	Leader    string // empty on a single server
}

// OK reports whether the stream exists as wanted with every replica current.
func (c StreamCheck) OK() bool { return !c.Missing && len(c.Diffs) == 0 && len(c.Unhealthy) == 0 }

// VerifyStreams compares every stream of cfgs with the server's, without
// changing anything: what a user not allowed to provision can still run.
func VerifyStreams(ctx context.Context, js jetstream.JetStream, cfgs []jetstream.StreamConfig) ([]StreamCheck, error) {
	var out []StreamCheck
	for _, want := range cfgs {
		s, err := js.Stream(ctx, want.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			out = append(out, StreamCheck{Name: want.Name, Missing: true})
			continue
		}
		if err != nil {
			return out, fmt.Errorf("stream %s: %w", want.Name, err)
		}
		info := s.CachedInfo()
		c := StreamCheck{Name: want.Name, Diffs: StreamDiffs(want, info.Config), Msgs: info.State.Msgs,
			Replicas: max(info.Config.Replicas, 1)}
		if cl := info.Cluster; cl != nil {
			c.Leader = cl.Leader
			if cl.Leader == "" {
				c.Unhealthy = append(c.Unhealthy, "no leader")
			}
			for _, p := range cl.Replicas {
				if p.Offline || !p.Current {
					c.Unhealthy = append(c.Unhealthy, fmt.Sprintf("replica %s offline=%v current=%v", p.Name, p.Offline, p.Current))
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// StreamDiffs lists the settings of got that differ from want.
func StreamDiffs(want, got jetstream.StreamConfig) []string {
	var d []string
	add := func(field string, w, g any) { d = append(d, fmt.Sprintf("%s: want %v, have %v", field, w, g)) }
	if !slices.Equal(want.Subjects, got.Subjects) {
		add("subjects", want.Subjects, got.Subjects)
	}
	if want.Storage != got.Storage {
		add("storage", want.Storage, got.Storage)
	}
	if want.Retention != got.Retention {
		add("retention", want.Retention, got.Retention)
	}
	if want.MaxAge != got.MaxAge {
		add("max age", want.MaxAge, got.MaxAge)
	}
	// 0 and -1 both mean no limit; the server stores -1.
	if noLimit(want.MaxBytes) != noLimit(got.MaxBytes) {
		add("max bytes", noLimit(want.MaxBytes), noLimit(got.MaxBytes))
	}
	// Zero means the server's default window.
	if want.Duplicates != 0 && want.Duplicates != got.Duplicates {
		add("duplicate window", want.Duplicates, got.Duplicates)
	}
	if max(want.Replicas, 1) != max(got.Replicas, 1) {
		add("replicas", max(want.Replicas, 1), max(got.Replicas, 1))
	}
	return d
}

func noLimit(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// WaitStreamsCurrent waits until every stream of cfgs has a leader and
// all its replicas current, for a provisioner that must not report success
// on a cluster still electing.
func WaitStreamsCurrent(ctx context.Context, js jetstream.JetStream, cfgs []jetstream.StreamConfig) ([]StreamCheck, error) {
	for {
		// Bounded: a request lost in an election would wait for ctx.
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		checks, err := VerifyStreams(actx, js, cfgs)
		cancel()
		ok := err == nil
		for _, c := range checks {
			ok = ok && c.OK()
		}
		if ok {
			return checks, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return checks, fmt.Errorf("streams not current: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
