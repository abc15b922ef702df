package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/orderflow/orderflow/shared/testenv"
)

// TestStreamsProvisionLogsInWithAPasswordFile: the CLI reaches a NATS
// server that requires a login with NATS_USER and NATS_PASSWORD_FILE, as
// the Helm chart's streams Job runs it, and is refused without them.
func TestStreamsProvisionLogsInWithAPasswordFile(t *testing.T) {
	t.Setenv("NATS_URL", testenv.EmbeddedNATS(t, &server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		Users: []*server.User{{Username: "admin", Password: "s3cret"}},
	}))

	if _, err := run(t, "streams", "provision"); err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("without credentials: %v, want an authorization error", err)
	}

	pw := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NATS_USER", "admin")
	t.Setenv("NATS_PASSWORD_FILE", pw)
	out := mustRun(t, "streams", "provision")
	wantContains(t, out, "ORDER_COMMANDS provisioned", "ORDER_DLQ provisioned")
	wantContains(t, mustRun(t, "streams", "verify"), "ORDER_EVENTS ok")
}
