package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

// TestRunCommandEndToEnd starts the real run command with every service as
// its own process, sends the seed's curl requests, and follows one order
// through NATS, Temporal (parent and child on their task queues) and the
// projection, then checks Ctrl-C leaves nothing running.
func TestRunCommandEndToEnd(t *testing.T) {
	runEndToEnd(t, false)
}

// TestRunCommandSecured is the same run with everything of the Security
// section on: API keys, the shipped NATS roles (each service logs in as its
// own least-privilege user) and Temporal payload encryption. The order must
// still go through, and Temporal's raw history must not show its payment ID.
func TestRunCommandSecured(t *testing.T) {
	runEndToEnd(t, true)
}

func runEndToEnd(t *testing.T, secured bool) {
	root, bin := builtBinaries(t)
	dbURL := testenv.Postgres(t)
	temporalPort, uiPort, httpPort := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", httpPort)

	var natsURL string
	var secure []string
	bearer := ""
	if secured {
		natsURL = fmt.Sprintf("nats://127.0.0.1:%d", testenv.FreePort(t))
		dir := t.TempDir()
		key := "ofk_e2e-" + testenv.UniqueName("key")
		digest := sha256.Sum256([]byte(key))
		keys := filepath.Join(dir, "api-keys")
		codecKeys := filepath.Join(dir, "codec-keys")
		aes := make([]byte, 32)
		_, _ = rand.Read(aes)
		if err := os.WriteFile(keys, []byte("shop orders:write,orders:read "+hex.EncodeToString(digest[:])+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(codecKeys, []byte("k1 "+base64.StdEncoding.EncodeToString(aes)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		bearer = "Bearer " + key
		secure = []string{"NATS_ROLES=true", "NATS_SERVER_CONFIG=" + filepath.Join(root, "deploy", "nats", "orderflow.conf"),
			"API_KEYS_FILE=" + keys, "API_ALLOW_OPEN=false", "TEMPORAL_CODEC_KEYS_FILE=" + codecKeys}
	} else {
		natsURL = testenv.NATS(t).URL
	}

	env := append(append(os.Environ(), secure...),
		"DATA_DIR="+t.TempDir(),
		"BIN_DIR="+bin,
		"NATS_URL="+natsURL,
		"DATABASE_URL="+dbURL,
		fmt.Sprintf("TEMPORAL_PORT=%d", temporalPort),
		fmt.Sprintf("TEMPORAL_UI_PORT=%d", uiPort),
		fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", httpPort),
		"FAULTS=on",
	)
	_, opsVars := opsPorts(t)
	devstack := testenv.StartProcess(t, testenv.ProcessSpec{Name: "run command", Path: filepath.Join(bin, "devstack"), Dir: root,
		Env: append(env, opsVars...)})

	testenv.Eventually(t, 90*time.Second, func() (bool, string) {
		resp, err := http.Get(api + "/readyz")
		if err != nil {
			return false, "waiting for API ready"
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, "waiting for API ready"
	})
	if !strings.Contains(devstack.Output(), fmt.Sprintf("http://localhost:%d", uiPort)) {
		t.Errorf("run command did not print the Temporal UI URL")
	}

	orderID := testenv.UniqueName("order-123")
	// The seed README's start request, verbatim apart from the order ID
	// (and the key, when secured).
	req, _ := http.NewRequest("POST", api+"/orders/"+orderID+"/start", strings.NewReader(`{"payment_id": "payment-456"}`))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		anon, err := http.Post(api+"/orders/"+orderID+"/start", "application/json", strings.NewReader(`{"payment_id": "p"}`))
		if err != nil {
			t.Fatal(err)
		}
		anon.Body.Close()
		if anon.StatusCode != http.StatusUnauthorized {
			t.Fatalf("secured API answered %d to a start without a key", anon.StatusCode)
		}
		req.Header.Set("Authorization", bearer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	state, conn := startAndFollow(t, ctx, req, dbURL, orderID, 60*time.Second)
	if state != string(domain.StateShipped) {
		t.Errorf("order ended %s, want shipped", state)
	}
	var events, firstSeq, lastSeq int
	if err := conn.QueryRow(ctx, "SELECT count(*), min(seq), max(seq) FROM events WHERE order_id = $1", orderID).Scan(&events, &firstSeq, &lastSeq); err != nil {
		t.Fatal(err)
	}
	if events < 6 || firstSeq != 1 || lastSeq != events {
		t.Errorf("events: %d rows, seq %d..%d; want a gapless audit log of at least 6", events, firstSeq, lastSeq)
	}

	// The status endpoint answers for the finished order.
	req, _ = http.NewRequest("GET", api+"/orders/"+orderID+"/status", nil)
	if bearer != "" {
		req.Header.Set("Authorization", bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Source string                `json:"source"`
		Status contracts.OrderStatus `json:"status"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || status.Status.State != domain.StateShipped {
		t.Errorf("status: %d %+v, want 200 shipped", resp.StatusCode, status)
	}

	// Temporal shows the parent on orders-tq and its child on shipping-tq.
	tc, err := client.DialContext(ctx, client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", temporalPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	parent, err := tc.DescribeWorkflow(ctx, contracts.OrderWorkflowID(orderID), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := parent.RawResponse.GetWorkflowExecutionInfo().GetTaskQueue(); got != contracts.TaskQueueOrders {
		t.Errorf("parent task queue %s, want %s", got, contracts.TaskQueueOrders)
	}
	children, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("ParentWorkflowId = '%s'", contracts.OrderWorkflowID(orderID)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(children.Executions) == 0 {
		t.Fatalf("no child workflow of %s", contracts.OrderWorkflowID(orderID))
	}
	for _, c := range children.Executions {
		if c.TaskQueue != contracts.TaskQueueShipping || c.Type.Name != contracts.WorkflowShipping {
			t.Errorf("child %s: type %s on %s, want %s on %s", c.Execution.WorkflowId, c.Type.Name, c.TaskQueue, contracts.WorkflowShipping, contracts.TaskQueueShipping)
		}
	}
	if children.Executions[0].Status != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("last child status %s", children.Executions[0].Status)
	}
	// Read without the codec, the history shows the payment ID only when
	// encryption is off.
	var raw bytes.Buffer
	it := tc.GetWorkflowHistory(ctx, contracts.OrderWorkflowID(orderID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := proto.Marshal(ev)
		raw.Write(b)
	}
	if clear := bytes.Contains(raw.Bytes(), []byte("payment-456")); clear == secured {
		t.Errorf("payment ID in clear in the raw history: %v (secured %v)", clear, secured)
	}

	// Ctrl-C stops everything: the run command exits and its ports close.
	switch err := devstack.Stop(syscall.SIGINT, 60*time.Second); {
	case errors.Is(err, testenv.ErrStopTimeout):
		t.Fatal("run command did not stop within 60s of Ctrl-C")
	case err != nil:
		t.Errorf("run command exit: %v", err)
	}
	for _, p := range []int{temporalPort, uiPort, httpPort} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still open after Ctrl-C", p)
		}
	}
}

// builtBinaries returns the repository root and its .bin directory, failing
// when the run command, the dev server or a service binary is missing.
func builtBinaries(t *testing.T) (root, bin string) {
	t.Helper()
	root = testenv.RepoRoot(t)
	bin = filepath.Join(root, ".bin")
	for _, name := range append([]string{"devstack", "temporal"}, services...) {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Fatalf("%s/%s missing: run `make build` first (make test does)", bin, name)
		}
	}
	return root, bin
}

// startAndFollow sends req, an order's start, fails the test unless the
// API accepts it, and waits up to wait until the projection at dbURL holds
// the order terminal. It returns the order's state and the connection it
// read it on, open until the test ends.
func startAndFollow(t *testing.T, ctx context.Context, req *http.Request, dbURL, orderID string, wait time.Duration) (state string, conn *pgx.Conn) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: status %d, want 202", resp.StatusCode)
	}
	conn, err = pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	testenv.Eventually(t, wait, func() (bool, string) {
		var terminal bool
		err := conn.QueryRow(ctx, "SELECT state, terminal FROM orders WHERE order_id = $1", orderID).Scan(&state, &terminal)
		return err == nil && terminal, "waiting for order terminal in PostgreSQL"
	})
	return state, conn
}

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
