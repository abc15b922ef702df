package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/devserver"
	"github.com/orderflow/orderflow/shared/domain"
)

func ev(t enumspb.EventType) *historypb.HistoryEvent { return &historypb.HistoryEvent{EventType: t} }

func started(attempt int32) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
		Attributes: &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{
			ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{Attempt: attempt}}}
}

func la(task int64) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
		Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{
			MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: "LocalActivity", WorkflowTaskCompletedEventId: task}}}
}

func TestActions(t *testing.T) {
	h := []*historypb.HistoryEvent{
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), // 1 in a parent, 0 in a child
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),    // 0
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED),      // 0
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),    // 0
		ev(enumspb.EVENT_TYPE_MARKER_RECORDED),            // 1: GetVersion
		ev(enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), // 0: counted by its attempts
		started(3), // 3: started, retried twice
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), // never started: 0
		ev(enumspb.EVENT_TYPE_TIMER_STARTED),
		ev(enumspb.EVENT_TYPE_TIMER_FIRED), // 0
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
		ev(enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED), // 0: the receiver counts it
		ev(enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
		ev(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED), // 0
		la(10), la(10), la(14), // 2: local activities of two workflow tasks
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), // 0
	}
	if got := actions(h, true); got != 1+1+1+3+1+1+1+2 {
		t.Fatalf("parent: %d actions, want 11", got)
	}
	if got := actions(h, false); got != 10 {
		t.Fatalf("child: %d actions, want 10 (its start is the parent's)", got)
	}
}

func TestProcStatAndChildren(t *testing.T) {
	cmd := exec.Command("/bin/sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid, err := childPID(os.Getpid(), "sleep")
	if err != nil || pid != cmd.Process.Pid {
		t.Fatalf("childPID: %d, %v; want %d", pid, err, cmd.Process.Pid)
	}
	// Burn some CPU so utime+stime moves.
	_, before, _, _ := procStat(os.Getpid())
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	ppid, after, comm, err := procStat(os.Getpid())
	if err != nil || ppid != os.Getppid() || after <= before || !strings.HasPrefix("bench.test", comm) {
		t.Fatalf("procStat(self) = ppid %d, cpu %v → %v, comm %q, %v", ppid, before, after, comm, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := childPID(os.Getpid(), "sleep"); err == nil {
		t.Fatal("a reaped child is still listed")
	}
}

func TestWithoutEager(t *testing.T) {
	got := withoutEager(devserver.DefaultDynamicConfig)
	if !strings.Contains(got, "system.enableActivityEagerExecution=false") || strings.Contains(got, "=true") ||
		strings.Count(got, ",") != len(devserver.DefaultDynamicConfig)-1 {
		t.Fatalf("withoutEager = %q", got)
	}
}

func event(t contracts.EventType, data any) contracts.Event {
	b, _ := json.Marshal(data)
	return contracts.Event{Type: t, Data: b}
}

func TestUpdatesInPublishingOrder(t *testing.T) {
	const order = "chaos-x-000001"
	addr := func(k int) contracts.Event {
		return event(contracts.EventAddressUpdated, domain.Address{Street: updateStreet(k), City: "Bench", State: "BE", ZipCode: "00000"})
	}
	rejected := func(k int) contracts.Event {
		return event(contracts.EventSignalRejected, map[string]string{"signal": contracts.SignalUpdateAddress,
			"command_id": updateCommandID(order, k), "reason": "carrier already dispatched"})
	}
	seq := func(e contracts.Event, n int64) contracts.Event { e.Seq = n; return e }
	other := event(contracts.EventSignalRejected, map[string]string{"signal": contracts.SignalCancel, "command_id": "cancel-" + order})
	for _, c := range []struct {
		name string
		evs  []contracts.Event
		want []int
		ok   bool
	}{
		{"all applied", []contracts.Event{addr(1), other, addr(2), addr(3)}, []int{1, 2, 3}, true},
		{"stored out of seq order, applied in order", []contracts.Event{seq(addr(3), 3), seq(addr(1), 1), seq(addr(2), 2)}, []int{1, 2, 3}, true},
		{"applied out of order", []contracts.Event{seq(addr(2), 1), seq(addr(1), 2)}, []int{2, 1}, false},
		{"the last rejected after dispatch", []contracts.Event{addr(1), addr(2), rejected(3)}, []int{1, 2, 3}, true},
		{"the last ones reached an ended order", []contracts.Event{addr(1)}, []int{1}, true},
		{"none", nil, nil, true},
		{"swapped", []contracts.Event{addr(2), addr(1), addr(3)}, []int{2, 1, 3}, false},
		{"one lost before a later one", []contracts.Event{addr(1), addr(3)}, []int{1, 3}, false},
		{"applied twice", []contracts.Event{addr(1), addr(1), addr(2)}, []int{1, 1, 2}, false},
		{"not the bench's", []contracts.Event{event(contracts.EventAddressUpdated, domain.DefaultAddress())}, []int{-1}, false},
	} {
		got := updatesApplied(order, c.evs)
		if !slices.Equal(got, c.want) || inPublishingOrder(got) != c.ok {
			t.Errorf("%s: updates %v (in order %v), want %v (%v)", c.name, got, inPublishingOrder(got), c.want, c.ok)
		}
	}
}

// TestKillReplicaFindsTheRestartedCopy runs two copies of one binary told
// apart by OPS_ADDR under a small restarting supervisor, kills one by its
// key and expects the new process of that copy, the other untouched.
func TestKillReplicaFindsTheRestartedCopy(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var live []*exec.Cmd
	supervise := func(opsAddr string) {
		defer wg.Done()
		for {
			cmd := exec.Command("/bin/sleep", "60")
			cmd.Env = append(os.Environ(), "OPS_ADDR=ignored", "OPS_ADDR="+opsAddr)
			if err := cmd.Start(); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			live = append(live, cmd)
			mu.Unlock()
			_ = cmd.Wait()
			select {
			case <-stop:
				return
			default:
			}
		}
	}
	wg.Add(2)
	go supervise("127.0.0.1:1")
	go supervise("127.0.0.1:2")
	t.Cleanup(func() {
		close(stop)
		mu.Lock()
		for _, c := range live {
			_ = c.Process.Kill()
		}
		mu.Unlock()
		wg.Wait()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(childPIDs(os.Getpid(), "sleep")) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	keys := map[string]int{}
	for _, pid := range childPIDs(os.Getpid(), "sleep") {
		keys[replicaKey(pid)] = pid
	}
	if len(keys) != 2 || keys["127.0.0.1:1"] == 0 || keys["127.0.0.1:2"] == 0 {
		t.Fatalf("replica keys %v, want the last OPS_ADDR of each copy", keys)
	}
	old, new, key, err := killReplica(ctx, os.Getpid(), "sleep", func(k string) bool { return k == "127.0.0.1:2" })
	if err != nil || old != keys["127.0.0.1:2"] || new == old || new == 0 || key != "127.0.0.1:2" || replicaKey(new) != key {
		t.Fatalf("killReplica = %d → %d (%q), %v; want %d → a new copy on 127.0.0.1:2", old, new, key, err, keys["127.0.0.1:2"])
	}
	if !slices.Contains(childPIDs(os.Getpid(), "sleep"), keys["127.0.0.1:1"]) {
		t.Fatal("the other copy was killed too")
	}
	if _, _, _, err := killReplica(ctx, os.Getpid(), "sleep", func(string) bool { return false }); err == nil {
		t.Fatal("killReplica with no matching copy did not fail")
	}
}

func TestReplicaKeyFallsBackToTheCommandLine(t *testing.T) {
	cmd := exec.Command("/bin/sleep", "60", "1s") // sleep adds its arguments up
	cmd.Env = []string{"PATH=/bin"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if got := replicaKey(cmd.Process.Pid); got != "/bin/sleep 60 1s" {
		t.Fatalf("replicaKey = %q", got)
	}
}

func TestSumMetric(t *testing.T) {
	text := `# HELP orderflow_bridge_commands_total Commands settled.
# TYPE orderflow_bridge_commands_total counter
orderflow_bridge_commands_total{kind="start",outcome="started",reason=""} 12
orderflow_bridge_commands_total{kind="update-address",outcome="applied",reason=""} 30
orderflow_bridge_commands_total_other 1000
orderflow_bridge_commands_dead_lettered_total{reason="x"} 7
orderflow_bridge_commands_total 0.5
`
	if got := sumMetric(bufio.NewScanner(strings.NewReader(text)), "orderflow_bridge_commands_total"); got != 42.5 {
		t.Fatalf("sumMetric = %v, want 42.5", got)
	}
}

func TestParseScalingConfigs(t *testing.T) {
	got, err := parseScalingConfigs("dev, prod:1:1,prod:16:2")
	if err != nil {
		t.Fatal(err)
	}
	want := []scalingConfig{{Name: "dev server"}, {Name: "prod 1 shards ×1", Prod: true, Shards: 1, Replicas: 1},
		{Name: "prod 16 shards ×2", Prod: true, Shards: 16, Replicas: 2}}
	if !slices.Equal(got, want) {
		t.Fatalf("parseScalingConfigs = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"prod:4", "prod:0:1", "prod:4:x", "staging"} {
		if _, err := parseScalingConfigs(bad); err == nil {
			t.Errorf("parseScalingConfigs(%q) did not fail", bad)
		}
	}
}

// TestScalingReport draws the plots and the table from made-up points: one
// line per configuration, the knee the highest flat rate.
func TestScalingReport(t *testing.T) {
	configs := []scalingConfig{{Name: "dev server"}, {Name: "prod 4 shards ×1", Prod: true, Shards: 4, Replicas: 1}}
	point := func(c string, rate, p99 float64, flat bool) scalingPoint {
		return scalingPoint{Config: c, Offered: rate, Flat: flat, TemporalCPUms: 200, HistoryEvents: 120,
			Row: Row{Orders: 10, ThroughputPerS: rate * 0.9, Terminal: Dist{P50: p99 / 2, P99: p99}}}
	}
	points := []scalingPoint{point("dev server", 2, 700, true), point("dev server", 4, 900, true), point("dev server", 6, 2600, false),
		point("prod 4 shards ×1", 2, 1200, true), point("prod 4 shards ×1", 4, 7000, false)}
	base := filepath.Join(t.TempDir(), "scaling")
	files, err := scalingPlots(base, configs, points)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Fatalf("plots %v, want an SVG and a PNG for each of e2e, throughput, cpu", files)
	}
	svg, err := os.ReadFile(base + "-e2e.svg")
	if err != nil || !strings.Contains(string(svg), "prod 4 shards ×1 p99") || !strings.Contains(string(svg), "dev server p50") {
		t.Fatalf("e2e plot lacks its legend (%v)", err)
	}
	md := scalingMarkdown("stamp", "bench -scenario scaling", options{segment: 8 * time.Second}, configs, points)
	if !strings.Contains(md, "dev server 4/s, prod 4 shards ×1 2/s") || strings.Count(md, "\n| ") != 6 {
		t.Fatalf("scaling table:\n%s", md)
	}
}
