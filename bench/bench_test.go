package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/orderflow/orderflow/shared/devserver"
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
