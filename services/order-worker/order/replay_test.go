package order

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	tworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	shipping "github.com/orderflow/orderflow/services/shipping-worker/shipment"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/testenv"
)

var record = flag.Bool("record", false, "store histories recorded from fresh runs in testdata/v<CurrentVersion>/ (never over an existing file)")

// replayer replays order and shipping histories with the current code: a
// change that makes workflow code take another path fails it.
func replayer() tworker.WorkflowReplayer {
	r := tworker.NewWorkflowReplayer()
	RegisterWorkflow(r, Settings{})
	shipping.RegisterWorkflow(r)
	return r
}

// TestReplayRecordedHistories replays the committed histories of every
// released workflow version (testdata/v<N>/, recorded from real runs by
// TestRecordHistories -record): orders started on any of them must go on
// the same way on the current code.
func TestReplayRecordedHistories(t *testing.T) {
	var files []string
	for v := 0; v <= CurrentVersion; v++ {
		got, err := filepath.Glob(filepath.Join("testdata", fmt.Sprintf("v%d", v), "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 3 {
			t.Fatalf("found %d recorded histories for workflow version %d, want happy, cancelled-with-refund and dispatch-retry", len(got), v)
		}
		files = append(files, got...)
	}
	r := replayer()
	for _, f := range files {
		if err := r.ReplayWorkflowHistoryFromJSONFile(tlog.NewStructuredLogger(testenv.LoggerAt(t, slog.LevelError)), f); err != nil {
			t.Errorf("replay %s: %v", f, err)
		}
	}
}

// TestRecordHistories runs the replay scenarios on a real dev server and
// replays each fresh history at once; with -record it also stores them.
func TestRecordHistories(t *testing.T) {
	carrier := &testCarrier{failZips: map[string]int{zipFailOnce: 1, zipFailAlways: 99}}
	s := startStack(t, faults.Config{FailRate: 0.33, HangRate: 0.34, Seed: 11}, carrier)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prefix := testenv.UniqueName("replay")

	run := func(name string, in contracts.OrderInput, during func()) contracts.OrderStatus {
		wr := s.start(t, in)
		if during != nil {
			during()
		}
		st, err := finalStatus(ctx, wr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return st
	}

	happy := orderInput(prefix + "-happy")
	if st := run("happy", happy, nil); st.State != domain.StateShipped {
		t.Fatalf("happy ended %s", st.State)
	}

	// Cancel once shipping has started: dispatch to this zip always fails,
	// so the child (or, between shipping attempts, the parent) is still
	// before dispatch and accepts the cancel.
	cancelled := orderInput(prefix + "-cancelled")
	cancelled.Address.ZipCode = zipFailAlways
	st := run("cancelled", cancelled, func() {
		testenv.Eventually(t, 30*time.Second, func() (bool, string) {
			st, err := s.status(ctx, cancelled.OrderID)
			return err == nil && st.State == domain.StateShipping, fmt.Sprintf("shipping never started: %+v %v", st, err)
		})
		if err := s.c.SignalWorkflow(ctx, contracts.OrderWorkflowID(cancelled.OrderID), "", contracts.SignalCancel,
			contracts.SignalPayload{CommandID: "cancel-1", Reason: "replay scenario"}); err != nil {
			t.Fatal(err)
		}
	})
	if st.State != domain.StateCancelled || st.Payment.Status != PaymentStatusRefunded {
		t.Fatalf("cancelled scenario ended %s with payment %s: %s signals %+v", st.State, st.Payment.Status, st.FailureReason, st.Signals)
	}

	// The carrier refuses this zip once for good, so shipping attempt 1
	// ends in dispatch-failed and the parent retries. Faults stay on, so
	// attempt 2 can itself exhaust its dispatch attempts (1.8 % at these
	// rates) and a third attempt ships: at least two attempts, then shipped.
	retry := orderInput(prefix + "-dispatch-retry")
	retry.Address.ZipCode = zipFailOnce
	if st := run("dispatch-retry", retry, nil); st.State != domain.StateShipped || st.Shipping.Attempt < 2 {
		t.Fatalf("dispatch-retry ended %s, shipping %+v", st.State, st.Shipping)
	}

	histories := map[string]string{
		"happy":                            contracts.OrderWorkflowID(happy.OrderID),
		"happy.shipping-1":                 contracts.ShippingWorkflowID(happy.OrderID, 1),
		"cancelled-with-refund":            contracts.OrderWorkflowID(cancelled.OrderID),
		"cancelled-with-refund.shipping-1": contracts.ShippingWorkflowID(cancelled.OrderID, 1),
		"dispatch-retry":                   contracts.OrderWorkflowID(retry.OrderID),
		"dispatch-retry.shipping-1":        contracts.ShippingWorkflowID(retry.OrderID, 1),
		"dispatch-retry.shipping-2":        contracts.ShippingWorkflowID(retry.OrderID, 2),
	}
	r := replayer()
	for name, id := range histories {
		h := history(ctx, t, s.c, id)
		if err := r.ReplayWorkflowHistory(tlog.NewStructuredLogger(testenv.LoggerAt(t, slog.LevelError)), h); err != nil {
			t.Fatalf("replay fresh %s history: %v", name, err)
		}
		if *record {
			b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", fmt.Sprintf("v%d", CurrentVersion))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			// O_EXCL: a released history is never overwritten.
			f, err := os.OpenFile(filepath.Join(dir, name+".json"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				t.Fatalf("record %s: %v", name, err)
			}
			if _, err := f.Write(b); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func history(ctx context.Context, t *testing.T, c client.Client, workflowID string) *historypb.History {
	t.Helper()
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}
