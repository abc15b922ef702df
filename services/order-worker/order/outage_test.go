package order

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	v0 "github.com/orderflow/orderflow/services/order-worker/order/v0"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/testenv"
)

func (s *stack) historyLength(ctx context.Context, t *testing.T, workflowID string) int64 {
	t.Helper()
	d, err := s.c.DescribeWorkflow(ctx, workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	return d.RawResponse.GetWorkflowExecutionInfo().GetHistoryLength()
}

func (s *stack) waitStatus(ctx context.Context, t *testing.T, orderID, what string, ok func(contracts.OrderStatus) bool) contracts.OrderStatus {
	t.Helper()
	deadline, _ := ctx.Deadline()
	var st contracts.OrderStatus
	testenv.Eventually(t, time.Until(deadline), func() (bool, string) {
		var err error
		st, err = s.status(ctx, orderID)
		return err == nil && ok(st), fmt.Sprintf("order %s: waiting for %s; last status %+v (%v)", orderID, what, st.State, err)
	})
	return st
}

// A PostgreSQL outage during the charge: the order says what it waits for,
// the pending activity shows its attempts and last failure, history grows
// by a few events per budget only, and the order ships once the database
// is back, charged once.
func TestDatabaseOutageIsVisibleBoundedAndSurvived(t *testing.T) {
	proxy, dbURL := testenv.ProxyURL(t, testenv.Postgres(t))
	s := startStackWith(t, stackOptions{dbURL: dbURL, tune: func(c *Config) { c.StepBudget = 2 * time.Second }})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	in := orderInput(testenv.UniqueName("outage"))
	in.ManualReview = true
	run := s.start(t, in)
	id := contracts.OrderWorkflowID(in.OrderID)
	s.waitStatus(ctx, t, in.OrderID, "awaiting approval", func(st contracts.OrderStatus) bool { return st.State == domain.StateAwaitingApproval })

	proxy.Cut()
	if err := s.c.SignalWorkflow(ctx, id, "", contracts.SignalApprove, contracts.SignalPayload{CommandID: "ap"}); err != nil {
		t.Fatal(err)
	}
	st := s.waitStatus(ctx, t, in.OrderID, "waiting_for the charge", func(st contracts.OrderStatus) bool {
		return strings.Contains(st.WaitingFor, string(domain.StepChargePayment))
	})
	t.Logf("status while the database is down: step %s, waiting for %q", st.Step, st.WaitingFor)
	// The pending charge shows its attempts and last failure (a new round
	// starts at attempt 1, so look until one has retried).
	deadline, _ := ctx.Deadline()
	testenv.Eventually(t, time.Until(deadline), func() (bool, string) {
		desc, err := s.c.DescribeWorkflow(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		d := desc.RawResponse
		for _, a := range d.GetPendingActivities() {
			if a.GetActivityType().GetName() == "ChargePayment" && a.GetAttempt() > 1 && a.GetLastFailure().GetMessage() != "" {
				t.Logf("pending ChargePayment: attempt %d, last failure %q", a.GetAttempt(), a.GetLastFailure().GetMessage())
				return true, ""
			}
		}
		return false, fmt.Sprintf("no pending ChargePayment with attempts and last failure: %+v", d.GetPendingActivities())
	})
	before := s.historyLength(ctx, t, id)
	time.Sleep(10 * time.Second)
	grown := s.historyLength(ctx, t, id) - before
	// One round per 2 s budget: ActivityTaskScheduled/Started/TimedOut plus
	// a workflow task, about 6 events a round, about 30 in 10 s, against
	// thousands for a retry loop in workflow code.
	if grown > 45 {
		t.Fatalf("history grew by %d events in 10 s of outage", grown)
	}
	t.Logf("history grew by %d events in 10 s of database outage", grown)

	proxy.Restore()
	final, err := finalStatus(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if final.State != domain.StateShipped || final.WaitingFor != "" {
		t.Fatalf("after the outage: state %s waiting for %q", final.State, final.WaitingFor)
	}
	if _, status, calls, _ := s.infra.payment(t, in.PaymentID); status != PaymentStatusCharged || calls < 1 {
		t.Fatalf("payment %s calls %d", status, calls)
	}
}

// With no shipping worker the order says so, and it completes when one
// starts.
func TestShippingStallIsVisibleAndRecovers(t *testing.T) {
	s := startStackWith(t, stackOptions{noShipping: true, tune: func(c *Config) { c.ShippingStallAfter = 2 * time.Second }})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := orderInput(testenv.UniqueName("stall"))
	run := s.start(t, in)
	st := s.waitStatus(ctx, t, in.OrderID, "the stall to show", func(st contracts.OrderStatus) bool {
		return strings.Contains(st.WaitingFor, "no progress")
	})
	t.Logf("status without a shipping worker: %q", st.WaitingFor)
	wctx, stop := context.WithCancel(context.Background())
	defer stop()
	s.startShipping(t, wctx)
	final, err := finalStatus(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if final.State != domain.StateShipped || final.WaitingFor != "" {
		t.Fatalf("state %s waiting for %q", final.State, final.WaitingFor)
	}
	stop()
}

// An order started by the previous release (v0: local activities, no
// version marker) finishes on the current worker.
func TestOrderStartedOnV0FinishesOnCurrentWorker(t *testing.T) {
	s := startStackWith(t, stackOptions{noShipping: true})
	s.stop()
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The v0 release, as its binaries registered it.
	settings := s.cfg.Settings().v0()
	old := tworker.New(s.c, s.cfg.OrdersTaskQueue, tworker.Options{})
	old.RegisterWorkflowWithOptions(func(ctx workflow.Context, in contracts.OrderInput) (contracts.OrderStatus, error) {
		return v0.OrderWorkflow(ctx, in, settings)
	}, workflow.RegisterOptions{Name: contracts.WorkflowOrder})
	old.RegisterActivity(&Activities{Pool: s.pool, JS: s.infra.JS, Faults: faults.New(faults.Config{}), Log: s.infra.log})
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	in := orderInput(testenv.UniqueName("upgrade"))
	in.ManualReview = true
	run := s.start(t, in)
	s.waitStatus(ctx, t, in.OrderID, "awaiting approval on v0", func(st contracts.OrderStatus) bool { return st.State == domain.StateAwaitingApproval })
	old.Stop()

	// The new release takes over; the order goes on where it was.
	wctx, stop := context.WithCancel(context.Background())
	defer stop()
	s.wg.Go(func() {
		if err := RunWorker(wctx, s.cfg, s.c, s.pool, s.infra.JS, s.infra.log); err != nil {
			t.Errorf("order worker: %v", err)
		}
	})
	s.startShipping(t, wctx)
	if err := s.c.SignalWorkflow(ctx, contracts.OrderWorkflowID(in.OrderID), "", contracts.SignalApprove, contracts.SignalPayload{CommandID: "ap"}); err != nil {
		t.Fatal(err)
	}
	final, err := finalStatus(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if final.State != domain.StateShipped {
		t.Fatalf("state %s", final.State)
	}
	types := eventTypes(t, s.infra.events(t, in.OrderID))
	if types[len(types)-1] != contracts.EventShipped {
		t.Fatalf("events %v", types)
	}
	// It really ran v0 to the end: its history has no version marker.
	it := s.c.GetWorkflowHistory(ctx, contracts.OrderWorkflowID(in.OrderID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if m := e.GetMarkerRecordedEventAttributes(); m != nil && m.GetMarkerName() == "Version" {
			t.Fatal("the v0 order got a version marker: it switched code paths mid-flight")
		}
	}
	stop()
	s.wg.Wait()
}
