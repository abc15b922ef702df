package natsx_test

import (
	"strings"
	"testing"

	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

func TestAtLeast(t *testing.T) {
	for _, c := range []struct {
		version, min string
		want         bool
	}{
		{"2.9.10", "2.11.0", false}, // Debian bookworm's nats-server
		{"2.10.99", "2.11.0", false},
		{"2.11.0", "2.11.0", true},
		{"v2.15.2", "2.11.0", true},
		{"2.12.0-beta.1", "2.11.0", true},
		{"3.0.0", "2.11.0", true},
		{"1.99.99", "2.11.0", false},
		{"", "2.11.0", false},
		{"2.11", "2.11.0", false},
		{"two.eleven.zero", "2.11.0", false},
	} {
		if got := natsx.AtLeast(c.version, c.min); got != c.want {
			t.Errorf("AtLeast(%q, %q) = %v, want %v", c.version, c.min, got, c.want)
		}
	}
}

// A server older than 2.11 is named in a clear error; the test servers are
// recent enough.
func TestCheckServerVersion(t *testing.T) {
	err := natsx.CheckServerVersion(testenv.Connect(t, testenv.NATSAnnouncing(t, "2.9.10")))
	if err == nil || !strings.Contains(err.Error(), "nats-server 2.9.10") || !strings.Contains(err.Error(), natsx.MinServerVersion+" or later") {
		t.Fatalf("CheckServerVersion against 2.9.10: %v", err)
	}
	if err := natsx.CheckServerVersion(testenv.NATS(t).Conn()); err != nil {
		t.Fatalf("the test server: %v", err)
	}
}
