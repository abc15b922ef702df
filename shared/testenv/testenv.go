// Package testenv is the one test kit of every module: real, isolated
// infrastructure per test (a fresh PostgreSQL database with the schema, a
// NATS JetStream server of its own, a Temporal dev server; Env bundles the
// usual set), and the helpers tests would otherwise each write: Logger,
// Pool, ReadStream, StreamInfo, Eventually, Retry, Chromium, a cuttable TCP
// Proxy, child processes that can be stopped, killed and restarted, and Go
// for a service's Run in process, stopped through its context. Nothing is
// mocked and nothing is skipped: a missing dependency fails the test with a
// message that says how to provide it.
//
// The dev server is not started with the SDK's testsuite.StartDevServer:
// it cannot kill a server with SIGKILL or notice one that exited at start
// (the crash tests and the port-race retry need both), it writes the leading
// flags that devserver.Args writes too, and it has no containers mode.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/shared/netx"
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

// FreePort returns a loopback TCP port free at the time of the call, for a
// listener a test configures before it starts.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := netx.FreePort()
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	return p
}
