// Package configtest holds what the configuration tests of every service
// share: loading a Config from given variables, checking that Validate
// names the variable behind each bad setting, and writing the files that
// variables point at (*_FILE secrets, client profiles).
package configtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/shared/config"
)

// Load sets env for the rest of the test and loads C from the environment
// (config.Load, so Validate runs too); a failure ends the test.
func Load[C any](t testing.TB, env map[string]string) C {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.Load[C]()
	if err != nil {
		t.Fatalf("load %T: %v", cfg, err)
	}
	return cfg
}

// Refuses checks that valid passes Validate, then, for each variable in
// bad, that Validate refuses a copy of valid changed by bad[variable] with
// an error naming that variable, so an operator knows what to fix.
func Refuses[C interface{ Validate() error }](t *testing.T, valid C, bad map[string]func(*C)) {
	t.Helper()
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			c := valid
			mutate(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, name)
			}
		})
	}
}

// WriteFile writes content to a file called name in a fresh temporary
// directory of t and returns its path.
func WriteFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
