//go:build prodstack

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/netx"
	"github.com/orderflow/orderflow/shared/pgxx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// TestProductionProfileSmoke runs the real production run command (the
// binaries `make run-prod` builds) on free ports with databases of its
// own: one order goes through api-1 and is read back through api-2, the
// streams are R3 on the cluster, the Temporal server holds the workflow
// with its search attributes, and Ctrl-C leaves nothing running.
// Run by `make test-prod`.
func TestProductionProfileSmoke(t *testing.T) {
	root := testenv.RepoRoot(t)
	bin := filepath.Join(root, ".bin")
	for _, b := range []string{"prodstack", "orderflow", "temporal-server", "temporal-sql-tool", "nats-server", "temporal",
		"api", "bridge", "order-worker", "shipping-worker", "projector"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Fatalf("%s missing: run `make build prod-tools` first (make test-prod does)", filepath.Join(bin, b))
		}
	}
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	pg := "postgres://postgres@127.0.0.1:5432/"
	dbs := map[string]string{
		"DATABASE_URL":             pg + "orderflow_smoke_" + suffix + "?sslmode=disable",
		"TEMPORAL_PERSISTENCE_URL": pg + "orderflow_smoke_temporal_" + suffix + "?sslmode=disable",
		"TEMPORAL_VISIBILITY_URL":  pg + "orderflow_smoke_visibility_" + suffix + "?sslmode=disable",
	}
	t.Cleanup(func() {
		for _, u := range dbs {
			if err := pgxx.DropDatabase(context.Background(), u); err != nil {
				t.Logf("drop %s: %v", u, err)
			}
		}
	})
	dataDir := t.TempDir()
	freeRange := func(n int) int {
		t.Helper()
		base, err := netx.FreeRange(n)
		if err != nil {
			t.Fatal(err)
		}
		return base
	}
	temporalPort := freeRange(104)
	natsPort, clusterPort, monitorPort := freeRange(3), freeRange(3), freeRange(3)
	httpPort, opsPort, uiPort := freeRange(2), freeRange(10), freeRange(1)
	env := []string{
		"DATA_DIR=" + dataDir, "BIN_DIR=" + bin, "FAULTS=off",
		fmt.Sprintf("TEMPORAL_PORT=%d", temporalPort), fmt.Sprintf("TEMPORAL_UI_PORT=%d", uiPort),
		fmt.Sprintf("NATS_PORT=%d", natsPort), fmt.Sprintf("NATS_CLUSTER_PORT=%d", clusterPort),
		fmt.Sprintf("NATS_MONITOR_PORT=%d", monitorPort),
		fmt.Sprintf("HTTP_PORT=%d", httpPort), fmt.Sprintf("OPS_PORT=%d", opsPort),
		"NATS_STREAM_MAX_AGE=ORDER_EVENTS:720h",
	}
	for k, v := range dbs {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(filepath.Join(bin, "prodstack"))
	cmd.Dir = root
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Signal(syscall.SIGINT)
			<-exited
		}
		if t.Failed() {
			t.Logf("run command output:\n%s", out.String())
			if b, err := os.ReadFile(filepath.Join(dataDir, "temporal", "server.log")); err == nil {
				t.Logf("temporal server log:\n%s", b)
			}
		}
	})

	began := time.Now()
	deadline := began.Add(4 * time.Minute)
	for !strings.Contains(out.String(), "production profile is running") {
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("run command exited before it was up: %v", err)
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			t.Fatal("the production profile did not come up in 4 minutes")
		}
	}

	upIn := time.Since(began).Round(time.Second)
	api1 := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	api2 := fmt.Sprintf("http://127.0.0.1:%d", httpPort+1)
	resp, err := http.Post(api1+"/orders/smoke-1/start", "application/json", strings.NewReader(`{"payment_id":"pay-smoke-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("start: %s", resp.Status)
	}
	var state string
	for end := time.Now().Add(60 * time.Second); state != "shipped"; {
		if time.Now().After(end) {
			t.Fatalf("order state %q after 60 s, want shipped", state)
		}
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get(api2 + "/orders/smoke-1")
		if err != nil {
			continue
		}
		var o struct{ State string }
		_ = json.NewDecoder(resp.Body).Decode(&o)
		resp.Body.Close()
		state = o.State
	}

	// The streams as the operator command sees them: R3, with the limit set.
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d,nats://127.0.0.1:%d", natsPort, natsPort+1)
	verify := exec.Command(filepath.Join(bin, "orderflow"), "streams", "verify")
	verify.Env = append(os.Environ(), "NATS_URL="+natsURL, "NATS_STREAM_REPLICAS=3", "NATS_STREAM_MAX_AGE=ORDER_EVENTS:720h")
	if b, err := verify.CombinedOutput(); err != nil || strings.Count(string(b), ", R3, leader nats-") != 4 {
		t.Fatalf("streams verify: %v\n%s", err, b)
	}

	// The workflow is on the real server, found by its search attribute.
	list := exec.Command(filepath.Join(bin, "temporal"), "workflow", "count", "--address",
		fmt.Sprintf("127.0.0.1:%d", temporalPort), "--query", "OrderState = 'shipped'")
	if b, err := list.CombinedOutput(); err != nil || !strings.Contains(string(b), "Total: 1") {
		t.Fatalf("temporal workflow count: %v\n%s", err, b)
	}

	t.Logf("order shipped, streams R3, workflow on the server; up in %s", upIn)
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("run command after Ctrl-C: %v", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("run command did not stop within 90 s of Ctrl-C")
	}
	for _, p := range []int{temporalPort, natsPort, natsPort + 1, natsPort + 2, httpPort, httpPort + 1} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still answers after Ctrl-C", p)
		}
	}
	if !bytes.Contains([]byte(out.String()), []byte("process=nats-1")) {
		t.Error("no stop of nats-1 in the output")
	}
}
