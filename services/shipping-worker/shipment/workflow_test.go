package shipment

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/faults"
	"github.com/orderflow/orderflow/shared/testenv"
)

// testFaults fail half the attempts and hang none: the SDK's test
// environment does not retry an activity that timed out (a real server
// does), so hangs are exercised by the order worker's integration tests.
var testFaults = faults.Config{FailRate: 0.5, Seed: 99}

// recordingCarrier refuses one zip code and records every dispatch.
type recordingCarrier struct {
	refuseZip string
	mu        sync.Mutex
	calls     []domain.Address
	refusals  int
	MemoryCarrier
}

func (c *recordingCarrier) Dispatch(ctx context.Context, s Shipment) (Dispatch, error) {
	if s.Address.ZipCode == c.refuseZip {
		c.mu.Lock()
		c.refusals++
		c.mu.Unlock()
		return Dispatch{}, errors.New("carrier refused the address")
	}
	c.mu.Lock()
	c.calls = append(c.calls, s.Address)
	c.mu.Unlock()
	return c.MemoryCarrier.Dispatch(ctx, s)
}

// childTest runs ShippingWorkflow alone; its signals to the parent are
// captured (the parent is not in this environment).
type childTest struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	carrier *recordingCarrier
	mu      sync.Mutex
	reports []contracts.ShippingReport
	failed  []contracts.DispatchFailedPayload
	onStart map[string]func()
	started map[string]int // attempts started, by activity
}

// captureSignals appends every signal named name that the child sends its
// parent to *into.
func captureSignals[T any](c *childTest, name string, into *[]T) {
	c.env.OnSignalExternalWorkflow(mock.Anything, "parent-wf", "", name, mock.Anything).Return(
		func(_, _, _ string, _ string, arg any) error {
			c.mu.Lock()
			*into = append(*into, arg.(T))
			c.mu.Unlock()
			return nil
		})
}

func newChildTest(t *testing.T) *childTest {
	log := testenv.Logger(t)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(log))
	c := &childTest{t: t, env: suite.NewTestWorkflowEnvironment(), carrier: &recordingCarrier{refuseZip: "99999"}, onStart: map[string]func(){}, started: map[string]int{}}
	Register(c.env, &Activities{Faults: faults.New(testFaults), Carrier: c.carrier, Log: log})
	captureSignals(c, contracts.SignalShippingProgress, &c.reports)
	captureSignals(c, contracts.SignalDispatchFailed, &c.failed)
	c.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		c.mu.Lock()
		c.started[info.ActivityType.Name]++
		c.mu.Unlock()
		if f := c.onStart[info.ActivityType.Name]; f != nil {
			delete(c.onStart, info.ActivityType.Name)
			f()
		}
	})
	return c
}

func (c *childTest) run(addr domain.Address) contracts.ShippingReport {
	c.t.Helper()
	c.env.ExecuteWorkflow(contracts.WorkflowShipping, contracts.ShippingInput{
		OrderID: "o1", ParentWorkflowID: "parent-wf", Attempt: 1, Address: addr,
		Items: []domain.Item{{SKU: "A", Quantity: 1, PriceCents: 1}}, StepTimeout: 50 * time.Millisecond, MaxDispatchAttempts: 5,
	})
	if err := c.env.GetWorkflowError(); err != nil {
		c.t.Fatal(err)
	}
	var rep contracts.ShippingReport
	if err := c.env.GetWorkflowResult(&rep); err != nil {
		c.t.Fatal(err)
	}
	for i := 1; i < len(c.reports); i++ {
		if c.reports[i].Seq <= c.reports[i-1].Seq {
			c.t.Fatalf("report seq not increasing: %d then %d", c.reports[i-1].Seq, c.reports[i].Seq)
		}
	}
	return rep
}

func (c *childTest) signal(name string, p contracts.SignalPayload) func() {
	return func() { c.env.SignalWorkflow(name, p) }
}

var (
	home     = domain.Address{Street: "1 A St", City: "X", State: "CA", ZipCode: "94000"}
	refused  = domain.Address{Street: "9 Z St", City: "X", State: "CA", ZipCode: "99999"}
	newPlace = domain.Address{Street: "2 B St", City: "Y", State: "CA", ZipCode: "94111"}
)

func TestShipsAndReportsEachTransition(t *testing.T) {
	c := newChildTest(t)
	rep := c.run(home)
	if rep.Outcome != contracts.ShippingShipped || rep.TrackingNumber == "" || rep.DispatchedAt == nil || rep.ShippedAt == nil {
		t.Fatalf("report %+v", rep)
	}
	if len(c.reports) != 2 || c.reports[0].PreparedAt == nil || c.reports[0].DispatchedAt != nil || c.reports[1].DispatchedAt == nil {
		t.Fatalf("want a prepared then a dispatched report, got %+v", c.reports)
	}
	if rep.Attempts[domain.StepPreparePackage] < 1 || rep.Attempts[domain.StepDispatchCarrier] < 1 || rep.Attempts[domain.StepMarkShipped] < 1 {
		t.Fatalf("attempts %v", rep.Attempts)
	}
}

func TestCancelBeforeDispatchIsAcceptedByChild(t *testing.T) {
	c := newChildTest(t)
	c.onStart["PreparePackage"] = c.signal(contracts.SignalCancel, contracts.SignalPayload{CommandID: "c1"})
	rep := c.run(home)
	if rep.Outcome != contracts.ShippingCancelled || rep.DispatchedAt != nil || len(c.carrier.calls) != 0 {
		t.Fatalf("report %+v carrier calls %d", rep, len(c.carrier.calls))
	}
	if len(rep.Decisions) != 1 || !rep.Decisions[0].Accepted || rep.Decisions[0].CommandID != "c1" {
		t.Fatalf("decisions %+v", rep.Decisions)
	}
}

func TestCancelAfterDispatchIsRejectedByChild(t *testing.T) {
	c := newChildTest(t)
	c.onStart["MarkShipped"] = c.signal(contracts.SignalCancel, contracts.SignalPayload{CommandID: "c1"})
	rep := c.run(home)
	if rep.Outcome != contracts.ShippingShipped {
		t.Fatalf("outcome %s", rep.Outcome)
	}
	if len(rep.Decisions) != 1 || rep.Decisions[0].Accepted || rep.Decisions[0].Reason != "carrier already dispatched" {
		t.Fatalf("decisions %+v", rep.Decisions)
	}
}

// An address change that arrives while a dispatch attempt is in flight is
// settled once that attempt fails, and the next attempt uses it.
func TestAddressChangeDuringDispatchIsUsedByNextAttempt(t *testing.T) {
	c := newChildTest(t)
	c.onStart["DispatchCarrier"] = c.signal(contracts.SignalUpdateAddress, contracts.SignalPayload{CommandID: "a1", Address: &newPlace})
	rep := c.run(refused)
	if rep.Outcome != contracts.ShippingShipped || rep.Address != newPlace {
		t.Fatalf("outcome %s address %+v", rep.Outcome, rep.Address)
	}
	if len(c.carrier.calls) != 1 || c.carrier.calls[0] != newPlace {
		t.Fatalf("carrier dispatched to %+v", c.carrier.calls)
	}
	if len(rep.Decisions) != 1 || !rep.Decisions[0].Accepted {
		t.Fatalf("decisions %+v", rep.Decisions)
	}
}

func TestDispatchFailingForGoodSignalsParent(t *testing.T) {
	c := newChildTest(t)
	rep := c.run(refused)
	// MaxDispatchAttempts (5) attempts, then no more.
	if rep.Outcome != contracts.ShippingDispatchFailed || c.started["DispatchCarrier"] != 5 || c.carrier.refusals < 1 {
		t.Fatalf("outcome %s dispatch attempts %d refusals %d", rep.Outcome, c.started["DispatchCarrier"], c.carrier.refusals)
	}
	if len(c.failed) != 1 || c.failed[0].Attempt != 1 || c.failed[0].Reason == "" {
		t.Fatalf("dispatch-failed signals %+v", c.failed)
	}
	if len(rep.Errors) == 0 {
		t.Fatal("no dispatch errors recorded")
	}
}

// A shipping attempt given the parcel an earlier attempt dispatched only
// marks it shipped: the carrier is not called again.
func TestResumedAfterDispatchOnlyMarksShipped(t *testing.T) {
	c := newChildTest(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c.env.ExecuteWorkflow(contracts.WorkflowShipping, contracts.ShippingInput{
		OrderID: "o1", ParentWorkflowID: "parent-wf", Attempt: 2, Address: home,
		Items: []domain.Item{{SKU: "A", Quantity: 1, PriceCents: 1}}, StepTimeout: 50 * time.Millisecond, MaxDispatchAttempts: 5,
		Dispatched: &contracts.Parcel{Carrier: "SimPost", TrackingNumber: "SP1", DispatchedAt: at},
	})
	var rep contracts.ShippingReport
	if err := c.env.GetWorkflowResult(&rep); err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != contracts.ShippingShipped || rep.TrackingNumber != "SP1" || rep.DispatchedAt == nil || !rep.DispatchedAt.Equal(at) {
		t.Fatalf("report %+v", rep)
	}
	if len(c.carrier.calls) != 0 || rep.Attempts[domain.StepDispatchCarrier] != 0 || rep.Attempts[domain.StepMarkShipped] < 1 {
		t.Fatalf("carrier calls %d attempts %v", len(c.carrier.calls), rep.Attempts)
	}
}
