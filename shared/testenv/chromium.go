package testenv

import (
	"os/exec"
	"testing"
)

// Chromium returns the path of Debian's chromium (or another headless
// Chrome) for a test that renders a page, named by what. Its absence fails
// the test with the install command: browser checks are never skipped.
func Chromium(t testing.TB, what string) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("headless Chromium is required for %s: install it with `apt-get update && apt-get install -y chromium`", what)
	return ""
}
