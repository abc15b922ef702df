package main

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/orderflow/orderflow/shared/testenv"
)

// TestObservabilityEndToEnd runs the real binaries through the run command
// with OTLP export pointed at a receiver in this test, sends one order with
// a W3C traceparent, and checks that (1) every service's /readyz, /livez and
// /metrics answer on its own port, (2) the order moved the counters of every
// service, (3) one trace holds spans of all five services in causal order:
// HTTP request → command publish → bridge apply → workflow start → workflow
// → its activities and the shipping child → events projected, and (4) every
// metric the dashboards and alert rules query is one the services export.
func TestObservabilityEndToEnd(t *testing.T) {
	root, bin := builtBinaries(t)
	sink := &spanSink{}
	receiver := httptest.NewServer(sink)
	defer receiver.Close()

	dbURL := testenv.Postgres(t)
	ns := testenv.NATS(t)
	httpPort := testenv.FreePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	env := []string{
		"DATA_DIR=" + t.TempDir(), "BIN_DIR=" + bin, "NATS_URL=" + ns.URL, "DATABASE_URL=" + dbURL,
		fmt.Sprintf("TEMPORAL_PORT=%d", testenv.FreePort(t)), fmt.Sprintf("TEMPORAL_UI_PORT=%d", testenv.FreePort(t)),
		fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", httpPort),
		"FAULTS=off",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + receiver.URL,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_BSP_SCHEDULE_DELAY=100", // ms: spans reach the receiver quickly
	}
	opsURL, opsVars := opsPorts(t)
	env = append(env, opsVars...)
	stack := runDevstack(t, root, bin, env)
	defer func() { _ = stack.Stop(syscall.SIGINT, 60*time.Second) }()

	for _, name := range services {
		testenv.Eventually(t, 90*time.Second, func() (bool, string) {
			select {
			case <-stack.Done():
				t.Fatalf("run command exited: %v", stack.Err())
			default:
			}
			return get(opsURL[name]+"/readyz") == http.StatusOK, "waiting for " + name + " /readyz"
		})
		if code := get(opsURL[name] + "/livez"); code != http.StatusOK {
			t.Errorf("%s /livez: %d", name, code)
		}
	}
	testenv.Eventually(t, 30*time.Second, func() (bool, string) { return get(api+"/readyz") == http.StatusOK, "waiting for API ready" })
	before := scrapeAll(t, opsURL)

	// The client's own span: the API's server span must become its child.
	traceID, clientSpan := "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	orderID := testenv.UniqueName("traced")
	req, _ := http.NewRequest(http.MethodPost, api+"/orders/"+orderID+"/start", strings.NewReader(`{"payment_id": "pay-traced"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-"+clientSpan+"-01")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	startAndFollow(t, ctx, req, dbURL, orderID, 45*time.Second)

	// Counters moved in every service (the projector counts right after
	// its commit, so give it a moment).
	moved := []struct {
		service, name string
		labels        map[string]string
		min           float64
	}{
		{"api", "orderflow_http_requests_total", map[string]string{"route": "/orders/:order_id/start", "status": "202"}, 1},
		{"api", "orderflow_api_commands_published_total", map[string]string{"kind": "start", "result": "stored"}, 1},
		{"bridge", "orderflow_bridge_commands_total", map[string]string{"kind": "start", "outcome": "started"}, 1},
		{"bridge", "orderflow_bridge_apply_duration_seconds_count", map[string]string{"kind": "start"}, 1},
		{"bridge", "temporal_request", map[string]string{"operation": "StartWorkflowExecution"}, 1},
		{"order-worker", "temporal_workflow_completed", map[string]string{"workflow_type": "OrderWorkflow"}, 1},
		{"shipping-worker", "temporal_workflow_completed", map[string]string{"workflow_type": "ShippingWorkflow"}, 1},
		{"projector", "orderflow_orders_terminal_total", map[string]string{"state": "shipped"}, 1},
		{"projector", "orderflow_payments_total", map[string]string{"outcome": "charged"}, 1},
		{"projector", "orderflow_orders_start_to_terminal_seconds_count", map[string]string{"state": "shipped"}, 1},
		{"projector", "orderflow_projector_events_projected_total", nil, 6},
		{"projector", "orderflow_projector_batch_size_events_count", nil, 1},
	}
	var after map[string]metrics
	testenv.Eventually(t, 15*time.Second, func() (bool, string) {
		after = scrapeAll(t, opsURL)
		for _, m := range moved {
			if after[m.service].sum(m.name, m.labels)-before[m.service].sum(m.name, m.labels) < m.min {
				return false, "waiting for counters to move"
			}
		}
		return true, "waiting for counters to move"
	})
	for _, lag := range []struct{ service, consumer string }{{"bridge", "bridge"}, {"projector", "projector"}} {
		for _, g := range []string{"orderflow_consumer_num_pending", "orderflow_consumer_num_ack_pending"} {
			if !after[lag.service].has(g, map[string]string{"consumer": lag.consumer}) {
				t.Errorf("%s does not export %s for consumer %s", lag.service, g, lag.consumer)
			}
		}
	}

	// One trace, every service, causal order.
	want := []struct{ service, name string }{
		{"api", "POST /orders/:order_id/start"},
		{"api", "publish start"},
		{"bridge", "apply start"},
		{"bridge", "StartWorkflow:OrderWorkflow"},
		{"order-worker", "RunWorkflow:OrderWorkflow"},
		{"shipping-worker", "RunWorkflow:ShippingWorkflow"},
		{"projector", "project shipped"},
	}
	var tr trace
	testenv.Eventually(t, 20*time.Second, func() (bool, string) {
		tr = sink.trace(traceID)
		for _, w := range want {
			if tr.find(w.service, w.name) == nil {
				return false, "waiting for spans of every service in the trace"
			}
		}
		return true, "waiting for spans of every service in the trace"
	})
	t.Logf("span tree of order %s:\n%s", orderID, tr.tree(clientSpan))
	if got := tr.find("api", want[0].name).Parent; got != clientSpan {
		t.Errorf("API server span's parent is %q, want the client's span %s", got, clientSpan)
	}
	for _, s := range tr.spans {
		if s.Parent != clientSpan && tr.byID[s.Parent] == nil {
			t.Errorf("span %s/%s has parent %s outside the trace", s.Service, s.Name, s.Parent)
		}
	}
	// Each hop descends from the one that caused it; the shipping child and
	// the projected event both hang off the order workflow.
	for _, edge := range [][2]int{{1, 0}, {2, 1}, {3, 2}, {4, 3}, {5, 4}, {6, 4}} {
		child, parent := tr.find(want[edge[0]].service, want[edge[0]].name), tr.find(want[edge[1]].service, want[edge[1]].name)
		if !tr.descends(child, parent) {
			t.Errorf("%s/%s does not descend from %s/%s", child.Service, child.Name, parent.Service, parent.Name)
		}
	}
	if p := tr.byID[tr.find("projector", "project shipped").Parent]; p == nil || p.Service != "order-worker" {
		t.Errorf("projector span's parent is %+v, want the order worker's publishing span", p)
	}

	checkDashboardMetrics(t, root, after)
}

// checkDashboardMetrics fails when a dashboard panel or an alert rule
// queries a metric no service exports (a typo, or a rename that left the
// dashboard behind). Temporal SDK counters that only appear after a failure
// (none happen in this fault-free run) are listed by name.
func checkDashboardMetrics(t *testing.T, root string, scraped map[string]metrics) {
	t.Helper()
	onlyAfterFailure := map[string]bool{
		"temporal_activity_execution_failed":            true,
		"temporal_workflow_failed":                      true,
		"temporal_workflow_task_execution_failed":       true,
		"orderflow_bridge_commands_dead_lettered_total": true, // counted on the first dead letter
		"orderflow_orders_oldest_in_step_seconds":       true, // only while an order is open
		"orderflow_orders_open":                         true,
	}
	exported := map[string]bool{}
	for _, m := range scraped {
		for series := range m {
			exported[seriesName(series)] = true
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "observability", "*", "*"))
	if len(files) == 0 {
		t.Fatal("no dashboards or rules under deploy/observability")
	}
	name := regexp.MustCompile(`\b(?:orderflow|temporal)_[a-z_]+`)
	checked := 0
	for _, f := range files {
		if !strings.HasSuffix(f, ".json") && !strings.HasSuffix(f, ".yml") && !strings.HasSuffix(f, ".yaml") {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range name.FindAllString(string(body), -1) {
			checked++
			if !exported[n] && !onlyAfterFailure[n] {
				t.Errorf("%s queries %s, which no service exports", filepath.Base(f), n)
			}
		}
	}
	if checked == 0 {
		t.Error("no metric names found in deploy/observability")
	}
}

// opsPorts gives every service's ops listener a free port: the run
// command's defaults (9181-9185) may be taken by a `make run` next door.
func opsPorts(t *testing.T) (urls map[string]string, env []string) {
	urls = map[string]string{}
	for _, name := range services {
		addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
		urls[name] = "http://" + addr
		env = append(env, strings.ToUpper(strings.ReplaceAll(name, "-", "_"))+"_OPS_ADDR="+addr)
	}
	return urls, env
}

// runDevstack starts the run command with env on top of this process's
// environment minus its OTEL_* variables, which the test controls.
func runDevstack(t *testing.T, root, bin string, env []string) *testenv.Process {
	t.Helper()
	var all []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			all = append(all, kv)
		}
	}
	return testenv.StartProcess(t, testenv.ProcessSpec{Name: "run command", Path: filepath.Join(bin, "devstack"), Dir: root,
		Env: append(all, env...)})
}

func get(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// metrics maps a series (name{labels}) to its value, from the Prometheus
// text format.
type metrics map[string]float64

var labelRE = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

func scrape(t *testing.T, url string) metrics {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %s", url, resp.StatusCode, body)
	}
	m := metrics{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

func scrapeAll(t *testing.T, urls map[string]string) map[string]metrics {
	all := map[string]metrics{}
	for name, url := range urls {
		all[name] = scrape(t, url)
	}
	return all
}

func seriesName(series string) string {
	if i := strings.IndexByte(series, '{'); i >= 0 {
		return series[:i]
	}
	return series
}

func (m metrics) matching(name string, labels map[string]string) []float64 {
	var vs []float64
series:
	for series, v := range m {
		if seriesName(series) != name {
			continue
		}
		got := map[string]string{}
		for _, kv := range labelRE.FindAllStringSubmatch(series, -1) {
			got[kv[1]] = kv[2]
		}
		for k, want := range labels {
			if got[k] != want {
				continue series
			}
		}
		vs = append(vs, v)
	}
	return vs
}

// sum adds up every series of name whose labels include labels.
func (m metrics) sum(name string, labels map[string]string) float64 {
	total := 0.0
	for _, v := range m.matching(name, labels) {
		total += v
	}
	return total
}

func (m metrics) has(name string, labels map[string]string) bool {
	return len(m.matching(name, labels)) > 0
}

// spanSink is an OTLP/HTTP trace receiver (POST /v1/traces, protobuf).
type spanSink struct {
	mu    sync.Mutex
	spans []span
}

type span struct {
	Service, Name, TraceID, ID, Parent string
	Start                              uint64
}

func (s *spanSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				s.spans = append(s.spans, span{Service: service, Name: sp.GetName(),
					TraceID: hex.EncodeToString(sp.GetTraceId()), ID: hex.EncodeToString(sp.GetSpanId()),
					Parent: hex.EncodeToString(sp.GetParentSpanId()), Start: sp.GetStartTimeUnixNano()})
			}
		}
	}
	s.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

type trace struct {
	spans []*span
	byID  map[string]*span
}

func (s *spanSink) trace(traceID string) trace {
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := trace{byID: map[string]*span{}}
	for i := range s.spans {
		if sp := &s.spans[i]; sp.TraceID == traceID {
			tr.spans = append(tr.spans, sp)
			tr.byID[sp.ID] = sp
		}
	}
	return tr
}

// find returns the earliest span of service with name.
func (tr trace) find(service, name string) *span {
	var found *span
	for _, s := range tr.spans {
		if s.Service == service && s.Name == name && (found == nil || s.Start < found.Start) {
			found = s
		}
	}
	return found
}

func (tr trace) descends(s, ancestor *span) bool {
	for seen := 0; s != nil && seen < len(tr.spans); seen++ {
		if s.Parent == ancestor.ID {
			return true
		}
		s = tr.byID[s.Parent]
	}
	return false
}

// tree renders the trace as an indented list under the root's parent.
func (tr trace) tree(rootParent string) string {
	children := map[string][]*span{}
	for _, s := range tr.spans {
		children[s.Parent] = append(children[s.Parent], s)
	}
	var b strings.Builder
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		kids := children[parent]
		sort.Slice(kids, func(i, j int) bool { return kids[i].Start < kids[j].Start })
		for _, k := range kids {
			fmt.Fprintf(&b, "%s%s  [%s]\n", strings.Repeat("  ", depth), k.Name, k.Service)
			walk(k.ID, depth+1)
		}
	}
	walk(rootParent, 0)
	return b.String()
}
