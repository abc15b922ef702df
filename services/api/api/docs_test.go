package api_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRunServesDocsInChromium runs the service as the binary does (Run
// with its configuration, on connections opened like cmd/api's), opens
// /docs in headless Chromium, which loads Swagger UI from the embedded
// assets under a self-only CSP, and finds every operation rendered; then it
// stops Run through its context.
func TestRunServesDocsInChromium(t *testing.T) {
	chromium := testenv.Chromium(t, "the /docs test")
	infra := testenv.New(t)
	cfg := defaultConfig(t)
	cfg.NATS.URL, cfg.Postgres.URL = infra.NATS.URL, infra.DBURL
	cfg.HTTPAddr = freeAddr(t)
	cfg.Shutdown.Timeout = 5 * time.Second
	deps := api.Deps{NATS: infra.NC, DB: infra.Pool, Log: testenv.Logger(t)}

	run := testenv.Go(t, func(ctx context.Context) error { return api.Run(ctx, cfg, deps) })
	base := "http://" + cfg.HTTPAddr
	testenv.Eventually(t, 15*time.Second, func() (bool, string) {
		select {
		case <-run.Done():
			t.Fatalf("Run returned early: %v", run.Err())
		default:
		}
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false, "waiting for API ready"
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK, "waiting for API ready"
	})

	res, err := http.Get(base + "/docs")
	if err != nil {
		t.Fatalf("GET /docs: %v", err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("/docs CSP %q does not restrict loads to the API itself", csp)
	}
	if bytes.Contains(page, []byte("https://")) || bytes.Contains(page, []byte("//cdn")) {
		t.Fatalf("/docs references an external host:\n%s", page)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer dcancel()
	cmd := exec.CommandContext(dctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000",
		"--dump-dom", base+"/docs")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{
		"orderflow API",
		"/orders/{order_id}/start", "/orders/{order_id}/signals/cancel",
		"/orders/{order_id}/signals/update-address", "/orders/{order_id}/signals/approve",
		"/orders/{order_id}/status", "/orders/{order_id}/events", "/orders/{order_id}",
		"/healthz", "/readyz", "opblock-summary-path",
	} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("rendered /docs lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("DOM (%d bytes): %.3000s", len(dom), dom)
	}

	if err := run.Stop(10 * time.Second); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatalf("still serving after Run returned")
	}
}
