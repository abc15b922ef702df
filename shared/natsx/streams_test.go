package natsx_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/config/configtest"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
)

// TestStreamSettingsFromEnv reads replicas and per-stream limits the way
// an operator sets them and checks they land on the right streams only.
func TestStreamSettingsFromEnv(t *testing.T) {
	s := configtest.Load[config.Streams](t, map[string]string{
		"NATS_STREAM_REPLICAS":         "3",
		"NATS_STREAM_MAX_AGE":          "ORDER_EVENTS:720h,ORDER_COMMANDS:48h",
		"NATS_STREAM_MAX_BYTES":        "ORDER_EVENTS:1073741824",
		"NATS_STREAM_DUPLICATE_WINDOW": "ORDER_COMMANDS:5m",
	})
	cfgs, err := natsx.StreamConfigsWith(s)
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]time.Duration{}
	for _, c := range natsx.StreamConfigs() {
		defaults[c.Name] = c.MaxAge
	}
	for _, c := range cfgs {
		if c.Replicas != 3 {
			t.Errorf("%s: replicas %d, want 3", c.Name, c.Replicas)
		}
		switch c.Name {
		case contracts.StreamEvents:
			if c.MaxAge != 720*time.Hour || c.MaxBytes != 1<<30 {
				t.Errorf("events: max age %s, max bytes %d", c.MaxAge, c.MaxBytes)
			}
		case contracts.StreamCommands:
			if c.MaxAge != 48*time.Hour || c.Duplicates != 5*time.Minute {
				t.Errorf("commands: max age %s, duplicates %s", c.MaxAge, c.Duplicates)
			}
		default:
			if c.MaxAge != defaults[c.Name] || c.MaxBytes != 0 {
				t.Errorf("%s: changed without a setting: max age %s, max bytes %d", c.Name, c.MaxAge, c.MaxBytes)
			}
		}
	}
}

func TestStreamSettingsRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    config.Streams
		want string
	}{
		{"zero replicas", config.Streams{Replicas: 0}, "NATS_STREAM_REPLICAS"},
		{"six replicas", config.Streams{Replicas: 6}, "NATS_STREAM_REPLICAS"},
		{"unknown stream", config.Streams{Replicas: 1, MaxAge: map[string]time.Duration{"ORDER_EVENT": time.Hour}}, `no stream "ORDER_EVENT"`},
		{"zero bytes", config.Streams{Replicas: 1, MaxBytes: map[string]int64{"ORDER_DLQ": 0}}, "NATS_STREAM_MAX_BYTES"},
		{"window past age", config.Streams{Replicas: 1, MaxAge: map[string]time.Duration{"ORDER_COMMANDS": time.Minute}}, "exceeds max age"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := natsx.StreamConfigsWith(tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestStreamDiffs(t *testing.T) {
	want := natsx.StreamConfigs()[0]
	want.Replicas, want.MaxBytes = 3, 1024
	got := natsx.StreamConfigs()[0]
	got.MaxBytes = -1
	d := natsx.StreamDiffs(want, got)
	if len(d) != 2 || !strings.HasPrefix(d[0], "max bytes") || !strings.HasPrefix(d[1], "replicas: want 3, have 1") {
		t.Fatalf("diffs %q", d)
	}
	if d := natsx.StreamDiffs(natsx.StreamConfigs()[0], got); len(d) != 0 {
		t.Fatalf("0 and -1 max bytes, 0 and 1 replicas must match: %q", d)
	}
}
