package integration_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/integration/stack"
	"github.com/orderflow/orderflow/shared/testenv"
)

// goCmd runs the go command in dir outside the workspace, as a user of the
// published module would.
func goCmd(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	// Read-only module files: a stale go.mod or go.sum fails instead of being fixed silently.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out
}

// TestExampleProgramOutsideWorkspace builds client/examples/follow as its
// own module (GOWORK=off), checks that it compiles in neither the services'
// shared module nor the Temporal SDK nor a NATS server, and runs it against
// the running system: it starts an order and follows it to shipped.
func TestExampleProgramOutsideWorkspace(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "client", "examples", "follow")
	deps := string(goCmd(t, dir, "list", "-deps", "."))
	for _, banned := range []string{"github.com/orderflow/orderflow/shared", "go.temporal.io/", "github.com/nats-io/nats-server"} {
		if strings.Contains(deps, banned) {
			t.Errorf("the example program depends on %s", banned)
		}
	}
	bin := filepath.Join(t.TempDir(), "follow")
	goCmd(t, dir, "build", "-o", bin, ".")

	s := stack.Start(t, stack.Options{NoAPI: true})
	orderID := testenv.UniqueName("follow")
	cmd := exec.Command(bin, "-nats", s.NATS.URL, "-order", orderID, "-timeout", "60s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("follow: %v\n%s", err, out.String())
	}
	for _, want := range []string{"started", "  1 received", "shipped", "order " + orderID + " ended shipped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestGeneratedHTTPClientIsCurrent regenerates client/rest with the pinned
// oapi-codegen and fails when the committed file differs: run
// `go generate ./client/rest` after changing openapi.yaml.
func TestGeneratedHTTPClientIsCurrent(t *testing.T) {
	root := testenv.RepoRoot(t)
	tmp := t.TempDir()
	// The committed configuration, writing into tmp instead of client/rest.
	cfg, err := os.ReadFile(filepath.Join(root, "client", "rest", "oapi-codegen.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("output: rest.gen.go"), []byte("output: "+filepath.Join(tmp, "rest.gen.go")), 1)
	if err := os.WriteFile(filepath.Join(tmp, "oapi-codegen.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	goCmd(t, filepath.Join(root, "deploy", "tools"), "tool", "oapi-codegen", "-config", filepath.Join(tmp, "oapi-codegen.yaml"),
		filepath.Join(root, "services", "api", "internal", "ports", "openapi.yaml"))
	fresh, err := os.ReadFile(filepath.Join(tmp, "rest.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, "client", "rest", "rest.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatalf("client/rest/rest.gen.go is stale: run `go generate ./client/rest`")
	}
}
