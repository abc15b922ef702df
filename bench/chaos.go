package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/netx"
)

// chaosTargets are killed in this order, again and again.
var chaosTargets = []string{"order-worker", "shipping-worker", "temporal", "bridge", "projector", "nats"}

// kill is one SIGKILL of the chaos scenario.
type kill struct {
	AtSec    float64 `json:"at_s"`
	Target   string  `json:"target"`
	OldPID   int     `json:"old_pid"`
	NewPID   int     `json:"new_pid"`
	DownSecs float64 `json:"down_s"`
	Err      string  `json:"error,omitempty"`
}

// invariant is one property checked for every order.
type invariant struct {
	Name       string   `json:"name"`
	Checked    int      `json:"checked"`
	Violations int      `json:"violations"`
	Examples   []string `json:"examples,omitempty"`
}

func (iv *invariant) check(ok bool, format string, args ...any) {
	iv.Checked++
	if !ok {
		iv.Violations++
		if len(iv.Examples) < 5 {
			iv.Examples = append(iv.Examples, fmt.Sprintf(format, args...))
		}
	}
}

// chaosRig is what the chaos scenario runs on: a stack started with
// supervised children, the processes it kills in turn and how.
type chaosRig struct {
	st      *stack
	targets []string
	kill    func(ctx context.Context, d *driver, target string) kill
	stop    func()
	// dynamicConfig is the dev server's, from its command line.
	dynamicConfig string
	profile       string
}

// devChaosRig is the dev profile (.bin/devstack, RESTART_CHILDREN) with a
// nats-server of the bench's own, so NATS can be killed too.
func devChaosRig(ctx context.Context, root, dataDir, base, stamp string, o options) (*chaosRig, error) {
	natsBin, err := natsBinary(root)
	if err != nil {
		return nil, err
	}
	port, err := netx.FreePort()
	if err != nil {
		return nil, err
	}
	ns := &natsServer{bin: natsBin, port: port, storeDir: filepath.Join(dataDir, "nats"), logPath: base + ".nats.stack.log"}
	if err := ns.start(); err != nil {
		return nil, err
	}
	fmt.Printf("starting the stack (faults on, children restarted %s after a crash); log: %s.stack.log\n", o.down, base)
	st, err := startStack(ctx, root, dataDir, base+".stack.log", stackOptions{faults: true, tune: o.tune,
		dbName: "orderflow_chaos_" + strings.ToLower(stamp), natsURL: ns.URL(), restartDelay: o.down, binDir: o.binDir})
	if err != nil {
		ns.stop()
		return nil, err
	}
	return &chaosRig{st: st, targets: chaosTargets, profile: "dev",
		kill: func(ctx context.Context, _ *driver, target string) kill {
			return chaosKill(ctx, st, ns, target, o.down)
		},
		stop:          func() { st.Stop(); ns.stop() },
		dynamicConfig: devServerDynamicConfig(st.PID()),
	}, nil
}

// prodChaosRig is the production profile (.bin/prodstack,
// RESTART_CHILDREN): every target is a child of the run command.
func prodChaosRig(ctx context.Context, root, dataDir, base, stamp string, o options) (*chaosRig, error) {
	fmt.Printf("starting the production profile (%d shards, %d replicas, faults on, children restarted %s after a crash); log: %s.stack.log\n",
		o.shards, o.replicas, o.down, base)
	st, err := startProdStack(ctx, root, dataDir, base+".stack.log", prodOptions{faults: true, shards: o.shards, replicas: o.replicas,
		dbSuffix: "prodchaos_" + strings.ToLower(stamp), restartDelay: o.down, binDir: o.binDir})
	if err != nil {
		return nil, err
	}
	return &chaosRig{st: st, targets: prodTargets, kill: prodKill, stop: st.Stop, profile: "prod",
		dynamicConfig: "prodstack default (shared/devserver.DefaultDynamicConfig)"}, nil
}

// runChaos offers a steady trickle of orders through both arms, with faults
// on and random cancels (and, with -address-updates, address updates
// after each start), while it kills processes with SIGKILL in turn, each a
// real process started again after -down by its supervisor. The dev
// profile loses the order worker, the shipping worker, the Temporal dev
// server, the bridge, the projector and NATS; the production profile the
// NATS node leading ORDER_COMMANDS, the pinned bridge, an order worker, a
// projector and the Temporal server. Then it checks every order's
// invariants, the way TestCrashesLoseNothing does.
func runChaos(ctx context.Context, root, out string, o options) error {
	stamp := time.Now().UTC().Format("20060102T150405")
	dataDir, err := runDirs(out, "orderflow-chaos-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	name := "chaos-"
	startRig := devChaosRig
	if o.profile == "prod" {
		name, startRig = "chaos-prod-", prodChaosRig
	}
	base := filepath.Join(out, name+stamp)
	rig, err := startRig(ctx, root, dataDir, base, stamp, o)
	if err != nil {
		return err
	}
	defer rig.stop()
	st := rig.st
	fmt.Println("dynamic config:", rig.dynamicConfig)
	d, err := newDriver(ctx, st, "chaos-"+strings.ToLower(stamp), o.live)
	if err != nil {
		return err
	}
	defer d.Close()
	d.retryFor = 5 * time.Minute

	d.segment(ctx, ArmDirect, 2, 2*time.Second)
	d.segment(ctx, ArmPipeline, 2, 2*time.Second)
	d.drain(ctx, 60*time.Second)
	d.chargeCPU(cpuKey{}, false) // CPU counters restart with each process: not measured here
	d.take()
	d.updates = o.addressUpdates

	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go d.sampleStatus(sctx)

	// Arrivals: alternating arms, open loop.
	begin := time.Now()
	interval := time.Duration(float64(time.Second) / o.rate)
	arrivalsDone := make(chan struct{})
	var starts sync.WaitGroup
	go func() {
		defer close(arrivalsDone)
		for i := 0; i < o.orders && ctx.Err() == nil; i++ {
			time.Sleep(time.Until(begin.Add(time.Duration(i) * interval)))
			arm := ArmDirect
			if i%2 == 1 {
				arm = ArmPipeline
			}
			s := d.newSample(arm, o.rate)
			starts.Go(func() { d.start(ctx, s) })
		}
		starts.Wait()
	}()
	fmt.Printf("%d orders at %.1f/s (%s of arrivals), a SIGKILL every %s, down %s\n",
		o.orders, o.rate, (time.Duration(o.orders) * interval).Round(time.Second), o.chaosEvery, o.down)

	// Kills, in turn, until the arrivals end and every target died once.
	var kills []kill
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(begin.Add(time.Duration(i+1) * o.chaosEvery))):
		}
		select {
		case <-arrivalsDone:
			if i >= len(rig.targets) {
				goto settled
			}
		default:
		}
		k := rig.kill(ctx, d, rig.targets[i%len(rig.targets)])
		k.AtSec = time.Since(begin).Round(100 * time.Millisecond).Seconds()
		fmt.Printf("%6.1fs SIGKILL %-16s pid %d → %d, down %.1fs %s\n", k.AtSec, k.Target, k.OldPID, k.NewPID, k.DownSecs, k.Err)
		kills = append(kills, k)
	}
settled:
	<-arrivalsDone
	d.cancelWG.Wait()
	fmt.Printf("arrivals done after %s; checking every order\n", time.Since(begin).Round(time.Second))

	res, err := checkOrders(ctx, d)
	stopSampling()
	if err != nil {
		return err
	}
	res.Kills = kills
	res.Command = strings.Join(os.Args, " ")
	res.Orders, res.Rate, res.Down, res.Every = o.orders, o.rate, o.down.String(), o.chaosEvery.String()
	res.DynamicConfig = rig.dynamicConfig
	res.Profile, res.AddressUpdates = rig.profile, o.addressUpdates
	if rig.profile == "prod" {
		res.Shards, res.Replicas = o.shards, o.replicas
	}

	md := res.markdown(stamp)
	js, _ := json.MarshalIndent(res, "", "  ")
	if err := os.WriteFile(base+".md", []byte(md), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", js, 0o644); err != nil {
		return err
	}
	fmt.Printf("\n%s\nwritten: %s.md, %s.json\n", md, base, base)
	for _, iv := range res.Invariants {
		if iv.Violations > 0 {
			return fmt.Errorf("%d invariant violations (%s first)", iv.Violations, iv.Name)
		}
	}
	return nil
}

// chaosKill kills one target with SIGKILL and waits until it runs again.
func chaosKill(ctx context.Context, st *stack, ns *natsServer, target string, down time.Duration) kill {
	k := kill{Target: target}
	t0 := time.Now()
	if target == "nats" {
		k.OldPID = ns.cmd.Process.Pid
		ns.kill()
		time.Sleep(down)
		if err := ns.start(); err != nil {
			k.Err = err.Error()
		}
		k.NewPID = ns.cmd.Process.Pid
	} else {
		kctx, cancel := context.WithTimeout(ctx, time.Minute)
		var err error
		k.OldPID, k.NewPID, err = killChild(kctx, st.PID(), target)
		cancel()
		if err != nil {
			k.Err = err.Error()
		}
	}
	k.DownSecs = time.Since(t0).Round(100 * time.Millisecond).Seconds()
	return k
}

// chaosResult is the chaos report.
type chaosResult struct {
	Command string  `json:"command"`
	Profile string  `json:"profile"`
	Orders  int     `json:"orders"`
	Rate    float64 `json:"rate_per_sec"`
	Every   string  `json:"kill_every"`
	Down    string  `json:"down"`
	// DynamicConfig is the dev server's, from its command line.
	DynamicConfig string `json:"dev_server_dynamic_config"`
	// Shards and Replicas: production profile only.
	Shards         int `json:"history_shards,omitempty"`
	Replicas       int `json:"replicas,omitempty"`
	AddressUpdates int `json:"address_updates_per_order"`
	// UpdatesSent and UpdatesSettled: address updates accepted by the API
	// or Temporal, and those the orders' events applied or rejected.
	UpdatesSent    int            `json:"address_updates_sent"`
	UpdatesSettled int            `json:"address_updates_settled"`
	Kills          []kill         `json:"kills"`
	States         map[string]int `json:"terminal_states"`
	Invariants     []*invariant   `json:"invariants"`
	Rows           []Row          `json:"rows"`
	Live           *Live          `json:"live,omitempty"`
}

// checkOrders waits for every order to end, then checks it.
func checkOrders(ctx context.Context, d *driver) (*chaosResult, error) {
	d.mu.Lock()
	samples := make([]*sample, 0, len(d.samples))
	for _, s := range d.samples {
		if s.Err == "" {
			samples = append(samples, s)
		}
	}
	d.mu.Unlock()

	terminal := &invariant{Name: "terminal in Temporal"}
	events := &invariant{Name: "events on NATS = PublishEvents batches in history (IDs, types, order), seq gap-free"}
	last := &invariant{Name: "the last event is the final state"}
	projection := &invariant{Name: "projection (orders.state) = final state"}
	money := &invariant{Name: "at most one payment; charged iff shipped (no charge on a cancelled or failed order)"}
	parcels := &invariant{Name: "at most one parcel; a shipped order's tracking number is the carrier's"}
	res := &chaosResult{States: map[string]int{}, Invariants: []*invariant{terminal, events, last, projection, money, parcels}}
	updates := &invariant{Name: "address updates applied in publishing order (the events, by seq, name updates 1..m in order)"}
	if d.updates > 0 {
		res.Invariants = append(res.Invariants, updates)
	}

	final := map[string]contracts.OrderStatus{}
	histories := map[string][]*historypb.HistoryEvent{}
	for _, s := range samples {
		var st contracts.OrderStatus
		err := retry(ctx, 5*time.Minute, func(ctx context.Context) error {
			var err error
			st, err = finalStatus(ctx, d, s.OrderID)
			return err
		})
		terminal.check(err == nil && st.State.Terminal(), "order %s: state %q, %v", s.OrderID, st.State, err)
		if err != nil {
			continue
		}
		final[s.OrderID] = st
		res.States[string(st.State)]++
		var p price
		err = retry(ctx, time.Minute, func(ctx context.Context) error {
			var err error
			p, histories[s.OrderID], err = orderPrice(ctx, d.tc, s.OrderID)
			return err
		})
		if err == nil {
			d.mu.Lock()
			s.Priced, s.Events, s.Actions = true, p.Events, p.Actions
			d.mu.Unlock()
		}
	}

	stream, stored, err := readEvents(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, s := range samples {
		st, ok := final[s.OrderID]
		if !ok {
			continue
		}
		got := stream[s.OrderID]
		want, err := scheduledEvents(histories[s.OrderID])
		events.check(err == nil && sameEvents(got, want), "order %s (%s): NATS %s; history %s %v",
			s.OrderID, st.State, describe(got), describe(want), err)
		last.check(len(got) > 0 && got[len(got)-1].Type == contracts.EventType(st.State), "order %s (%s): events %s",
			s.OrderID, st.State, describe(got))
		if d.updates > 0 {
			d.mu.Lock()
			sent := s.UpdatesSent
			d.mu.Unlock()
			ks := updatesApplied(s.OrderID, got)
			trail := ""
			if !inPublishingOrder(ks) {
				trail = commandTrail(ctx, d, s.OrderID) + "; Temporal " + signalTrail(ctx, d, s.OrderID)
			}
			updates.check(inPublishingOrder(ks), "order %s (%s, %d updates sent): updates in event order %v; %s", s.OrderID, st.State, sent, ks, trail)
			res.UpdatesSettled += len(ks)
			res.UpdatesSent += sent
		}
		// e2e: from the start to when JetStream stored the terminal event
		// (the bench's own subscription may miss events while NATS is down).
		for _, e := range got {
			if e.Type == contracts.EventType(st.State) {
				d.mu.Lock()
				s.Terminal, s.State = stored[e.ID].Sub(s.start), string(st.State)
				d.mu.Unlock()
				break
			}
		}
	}

	// The projection catches up; a straggler gets two minutes.
	deadline := time.Now().Add(2 * time.Minute)
	for _, s := range samples {
		st, ok := final[s.OrderID]
		if !ok {
			continue
		}
		var state string
		for {
			err := d.pool.QueryRow(ctx, `SELECT state FROM orders WHERE order_id = $1`, s.OrderID).Scan(&state)
			if (err == nil && state == string(st.State)) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		projection.check(state == string(st.State), "order %s: projection %q, Temporal %q", s.OrderID, state, st.State)

		var status string
		var rows int
		if err := d.pool.QueryRow(ctx, `SELECT count(*), coalesce(min(status), '') FROM payments WHERE order_id = $1`, s.OrderID).Scan(&rows, &status); err != nil {
			return nil, fmt.Errorf("payments: %w", err)
		}
		charged := rows == 1 && status == "charged"
		money.check(rows <= 1 && charged == (st.State == domain.StateShipped), "order %s ended %s with %d payments (%q)", s.OrderID, st.State, rows, status)

		var n int
		var tracking string
		if err := d.pool.QueryRow(ctx, `SELECT count(*), coalesce(min(tracking_number), '') FROM parcels WHERE order_id = $1`, s.OrderID).Scan(&n, &tracking); err != nil {
			return nil, fmt.Errorf("parcels: %w", err)
		}
		statusTracking := ""
		if st.Shipping != nil {
			statusTracking = st.Shipping.TrackingNumber
		}
		ok = n <= 1 && (st.State != domain.StateShipped || (n == 1 && statusTracking == tracking))
		parcels.check(ok, "order %s (%s): %d parcels (%q), status tracking %q", s.OrderID, st.State, n, tracking, statusTracking)
	}

	b := d.take()
	res.Rows = summarise(b)
	res.Live = live(b)
	return res, nil
}

// updatesApplied lists the bench's address updates an order's events
// settled, in the events' seq order (the order the workflow applied them;
// the stream's own order is the events invariant's business): applied
// (address_updated, by the street it names) or visibly rejected
// (signal_rejected, by command ID).
func updatesApplied(orderID string, evs []contracts.Event) []int {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b contracts.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	var ks []int
	for _, e := range evs {
		k := 0
		switch e.Type {
		case contracts.EventAddressUpdated:
			var a domain.Address
			if json.Unmarshal(e.Data, &a) == nil {
				_, _ = fmt.Sscanf(a.Street, "bench update %d", &k)
			}
		case contracts.EventSignalRejected:
			var r map[string]string
			if json.Unmarshal(e.Data, &r) != nil || r["signal"] != contracts.SignalUpdateAddress {
				continue // a rejected cancel
			}
			if n, ok := strings.CutPrefix(r["command_id"], updateCommandPrefix(orderID)); ok {
				k, _ = strconv.Atoi(n)
			}
		default:
			continue
		}
		if k == 0 {
			k = -1 // an update event the bench cannot place: a violation
		}
		ks = append(ks, k)
	}
	return ks
}

// commandTrail lists an order's commands as ORDER_COMMANDS stored them
// (stream sequence and command ID), to tell a reordering broker from a
// reordering bridge when an order's updates came out of order.
func commandTrail(ctx context.Context, d *driver, orderID string) string {
	js, err := jetstream.New(d.nc)
	if err != nil {
		return err.Error()
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(cctx, contracts.StreamCommands, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{contracts.CommandsRoot + "." + orderID + ".>"}})
	if err != nil {
		return "command stream: " + err.Error()
	}
	var trail []string
	for {
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			return "command stream: " + err.Error()
		}
		got := 0
		for m := range batch.Messages() {
			got++
			seq := uint64(0)
			if md, err := m.Metadata(); err == nil {
				seq = md.Sequence.Stream
			}
			trail = append(trail, fmt.Sprintf("%d:%s", seq, m.Headers().Get(jetstream.MsgIDHeader)))
		}
		if got == 0 {
			return "ORDER_COMMANDS stored [" + strings.Join(trail, " ") + "]"
		}
	}
}

// signalTrail lists, in history order, the update-address signals the
// order's workflow received (W:k), forwarded to its shipping child (F:k),
// and the child received (C:k), to tell where updates changed order.
func signalTrail(ctx context.Context, d *driver, orderID string) string {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	k := func(p *commonpb.Payloads) string {
		var sp contracts.SignalPayload
		if err := converter.GetDefaultDataConverter().FromPayloads(p, &sp); err != nil {
			return "?"
		}
		return strings.TrimPrefix(sp.CommandID, updateCommandPrefix(orderID))
	}
	// trail walks one workflow's history, tagging the signals it received
	// with received, and its children's in brackets.
	var trail func(workflowID, runID, received string) ([]string, error)
	trail = func(workflowID, runID, received string) ([]string, error) {
		events, err := history(cctx, d.tc, workflowID, runID)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, e := range events {
			if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == contracts.SignalUpdateAddress {
				out = append(out, received+k(a.GetInput()))
			}
			if a := e.GetSignalExternalWorkflowExecutionInitiatedEventAttributes(); a != nil && a.GetSignalName() == contracts.SignalUpdateAddress {
				out = append(out, "F:"+k(a.GetInput()))
			}
			if a := e.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
				child := a.GetWorkflowExecution()
				got, err := trail(child.GetWorkflowId(), child.GetRunId(), "C:")
				if err != nil {
					return nil, err
				}
				out = append(out, "child "+child.GetWorkflowId()+" ["+strings.Join(got, " ")+"]")
			}
		}
		return out, nil
	}
	got, err := trail(contracts.OrderWorkflowID(orderID), "", "W:")
	if err != nil {
		return err.Error()
	}
	return "[" + strings.Join(got, " ") + "]"
}

// inPublishingOrder: the updates were published one after the other, so a
// workflow that got them in order settled 1, 2, …, m. An update missing
// before a later one, twice or out of order breaks it. Updates after m
// reached an order that had ended: rejected in its status only.
func inPublishingOrder(ks []int) bool {
	for i, k := range ks {
		if k != i+1 {
			return false
		}
	}
	return true
}

// finalStatus is the order's final status from its workflow's result: a
// failed order fails the workflow with its status in the failure's details.
func finalStatus(ctx context.Context, d *driver, orderID string) (contracts.OrderStatus, error) {
	var st contracts.OrderStatus
	err := d.tc.GetWorkflow(ctx, contracts.OrderWorkflowID(orderID), "").Get(ctx, &st)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == contracts.ErrTypeOrderFailed {
		if derr := appErr.Details(&st); derr != nil {
			return st, permanent{fmt.Errorf("failed order without status: %w", derr)}
		}
		return st, nil
	}
	return st, err
}

// scheduledEvents decodes the input of every PublishEvents activity the
// history scheduled, in order, de-duplicating a batch scheduled again after
// a publish round ran over its budget.
func scheduledEvents(h []*historypb.HistoryEvent) ([]contracts.Event, error) {
	var out []contracts.Event
	seen := map[string]bool{}
	for _, e := range h {
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil || a.GetActivityType().GetName() != "PublishEvents" {
			continue
		}
		var batch []contracts.Event
		if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &batch); err != nil {
			return nil, fmt.Errorf("decode PublishEvents input: %w", err)
		}
		for _, ev := range batch {
			if !seen[ev.ID] {
				seen[ev.ID] = true
				out = append(out, ev)
			}
		}
	}
	return out, nil
}

func sameEvents(got, want []contracts.Event) bool {
	if len(got) == 0 || len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Type != want[i].Type || got[i].Seq != int64(i+1) {
			return false
		}
	}
	return true
}

func describe(evs []contracts.Event) string {
	var b strings.Builder
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d:%s", e.Seq, e.Type)
	}
	return "[" + b.String() + "]"
}

// readEvents reads the whole event stream of the run's orders, grouped by
// order, with the time JetStream stored each event.
func readEvents(ctx context.Context, d *driver) (map[string][]contracts.Event, map[string]time.Time, error) {
	js, err := jetstream.New(d.nc)
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cons, err := js.OrderedConsumer(cctx, contracts.StreamEvents, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{contracts.EventsRoot + ".>"}})
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", contracts.StreamEvents, err)
	}
	out, stored := map[string][]contracts.Event{}, map[string]time.Time{}
	for {
		batch, err := cons.FetchNoWait(1000)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", contracts.StreamEvents, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			e, err := contracts.DecodeEvent(m.Data())
			if err != nil || !strings.HasPrefix(e.OrderID, d.run) {
				continue
			}
			out[e.OrderID] = append(out[e.OrderID], e)
			if md, err := m.Metadata(); err == nil {
				stored[e.ID] = md.Timestamp
			}
		}
		if got == 0 {
			return out, stored, nil
		}
	}
}

func (r *chaosResult) markdown(stamp string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### chaos scenario (%s profile), %s UTC\n\n`%s`\n\n", r.Profile, stamp, r.Command)
	if r.Profile == "prod" {
		fmt.Fprintf(&b, "Production profile: Temporal server on PostgreSQL with %d history shards, 3-node NATS cluster with R3 streams, %d replicas of every service.\n\n",
			r.Shards, r.Replicas)
	}
	fmt.Fprintf(&b, "%d orders at %.1f/s (arms alternating), faults 33%% fail / 34%% hang, a SIGKILL every %s, each process down %s before it is started again.\n\n",
		r.Orders, r.Rate, r.Every, r.Down)
	if r.AddressUpdates > 0 {
		fmt.Fprintf(&b, "Each order then gets %d address updates, each sent once the one before was accepted: %d accepted, %d of them applied or rejected by the orders' events (the rest reached orders that had ended).\n\n",
			r.AddressUpdates, r.UpdatesSent, r.UpdatesSettled)
	}
	b.WriteString("| at | SIGKILL | pid | back after | error |\n|---|---|---|---|---|\n")
	for _, k := range r.Kills {
		fmt.Fprintf(&b, "| %.1f s | %s | %d → %d | %.1f s | %s |\n", k.AtSec, k.Target, k.OldPID, k.NewPID, k.DownSecs, k.Err)
	}
	states := make([]string, 0, len(r.States))
	for s, n := range r.States {
		states = append(states, fmt.Sprintf("%s %d", s, n))
	}
	slices.Sort(states)
	fmt.Fprintf(&b, "\nfinal states: %s\n\n| invariant | orders checked | violations |\n|---|---|---|\n", strings.Join(states, ", "))
	for _, iv := range r.Invariants {
		fmt.Fprintf(&b, "| %s | %d | %d |\n", iv.Name, iv.Checked, iv.Violations)
	}
	for _, iv := range r.Invariants {
		for _, ex := range iv.Examples {
			fmt.Fprintf(&b, "\n- %s: %s", iv.Name, ex)
		}
	}
	b.WriteString("\n\n")
	b.WriteString(markdown("start → terminal event stored in JetStream, through the crashes", r.Rows))
	b.WriteString(r.Live.markdown())
	return b.String()
}
