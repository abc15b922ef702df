package systemtest

import (
	"os"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/shared/devserver"
)

// TestComposeRunsTheDevServerFlags keeps deploy/compose's dev server in step
// with devserver.DevServer, the flags `make run` and the tests use: a search
// attribute or tuning added there and missing from compose would make
// workflows fail (or run slower) only in the compose deployment.
func TestComposeRunsTheDevServerFlags(t *testing.T) {
	b, err := os.ReadFile("../compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	compose := string(b)
	args := devserver.DevServer{
		Port: 1, UIPort: 2, HTTPPort: 3, DBFile: "/data/temporal.db",
		SQLitePragmas: devserver.DefaultSQLitePragmas, DynamicConfig: devserver.DefaultDynamicConfig,
	}.Args()
	// Listeners are compose variables; everything else must be there as is.
	variable := map[string]bool{"--ip": true, "--port": true, "--ui-port": true, "--http-port": true}
	checked := 0
	for i := 0; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "--") || i+1 == len(args) || strings.HasPrefix(args[i+1], "--") {
			continue // a positional word or a switch without a value
		}
		flag, value := args[i], args[i+1]
		i++
		if variable[flag] {
			continue
		}
		checked++
		if want := "- " + flag + "=" + value + "\n"; !strings.Contains(compose, want) {
			t.Errorf("compose.yaml's temporal command lacks %q", strings.TrimSpace(want))
		}
	}
	if checked < 5 {
		t.Fatalf("only %d flags checked: does devserver.DevServer still produce --flag value pairs? %q", checked, args)
	}
}
