// Package testenv gives integration tests real, isolated infrastructure:
// a fresh PostgreSQL database with the schema applied, an embedded NATS
// JetStream server of their own, and a Temporal dev server. Nothing is
// mocked and nothing is skipped: a missing dependency fails the test with
// a message that says how to provide it.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// UniqueName returns prefix plus a random suffix, for task queues, order IDs
// and databases that must not collide with another run.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// RepoRoot walks up from the working directory to the folder holding go.work.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testenv: getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("testenv: no go.work above the working directory")
		}
		dir = parent
	}
}

func envOr(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}
