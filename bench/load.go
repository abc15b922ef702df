package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// Arm is one way of starting an order.
type Arm string

const (
	// ArmDirect starts OrderWorkflow with the Temporal client, as the bridge would.
	ArmDirect Arm = "A-direct"
	// ArmPipeline goes through HTTP API → JetStream → bridge.
	ArmPipeline Arm = "B-pipeline"
)

// sample is one order's measurements.
type sample struct {
	Arm       Arm
	Rate      float64
	OrderID   string
	start     time.Time
	Accept    time.Duration
	Err       string
	Terminal  time.Duration // start → terminal event seen on NATS
	State     string
	Projected time.Duration // start → terminal row in PostgreSQL

	// A cancel sent at a random moment (-cancel-share), and how long until
	// the order's cancelled or signal_rejected event was seen.
	cancelAt      time.Time
	CancelLatency time.Duration
	CancelOutcome string // cancelled, rejected, too_late (order had ended), error

	// Address updates 1..UpdatesSent were accepted, in that order
	// (-address-updates), each only after the one before.
	UpdatesSent int

	// The order's price (-price-sample orders per row are priced).
	Priced  bool
	Events  int
	Actions int
}

// driver starts orders and watches them finish. Both arms are observed the
// same way: the terminal event on NATS and the terminal row in PostgreSQL.
type driver struct {
	st   *stack
	tc   client.Client
	nc   *nats.Conn
	pool *pgxpool.Pool
	http *http.Client
	run  string // order ID prefix of this run

	mu      sync.Mutex
	byID    map[string]*sample
	samples []*sample
	seq     int

	live liveOptions
	rng  *rand.Rand
	// retryFor > 0 retries a start or cancel for that long, as a client
	// would while a dependency is down (chaos); 0 tries once.
	retryFor time.Duration
	// updates address updates follow each start, one after the other,
	// so the order's events must name them in that order.
	updates int
	// statusLat and statusErrs: sampled status queries on running orders.
	statusLat  []time.Duration
	statusErrs int
	cancelWG   sync.WaitGroup
	// cpu is the dev server's (and the whole stack's) CPU time per arm and
	// rate: each segment is charged from its start to the next one's.
	cpu      map[cpuKey]cpuUse
	cpuFrom  cpuUse
	cpuOn    cpuKey
	charging bool
}

// liveOptions turn on the live measurements: status query latency and cancel
// latency.
type liveOptions struct {
	statusPerSec float64       // status queries per second on running orders; 0: none
	cancelShare  float64       // share of orders that get a cancel
	cancelWithin time.Duration // the cancel is sent this long after the start, at most
}

type cpuKey struct {
	arm  Arm
	rate float64
}

type cpuUse struct{ temporal, stack time.Duration }

// stackProcs are the run command's children whose CPU time is counted
// (the dev profile runs NATS inside the run command, the production one
// as nats-server children).
var stackProcs = []string{"api", "bridge", "order-worker", "shipping-worker", "projector", "nats-server"}

func (d *driver) readCPU() cpuUse {
	t := cpuOf(d.st.PID(), d.st.temporalComm())
	return cpuUse{temporal: t, stack: t + cpuOf(d.st.PID(), stackProcs...)}
}

// chargeCPU charges the CPU used since the last call to the current segment
// and starts charging the next (on=false stops charging, e.g. after a drain).
func (d *driver) chargeCPU(next cpuKey, on bool) {
	now := d.readCPU()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.charging {
		u := d.cpu[d.cpuOn]
		u.temporal += max(0, now.temporal-d.cpuFrom.temporal)
		u.stack += max(0, now.stack-d.cpuFrom.stack)
		d.cpu[d.cpuOn] = u
	}
	d.cpuFrom, d.cpuOn, d.charging = now, next, on
}

func newDriver(ctx context.Context, st *stack, run string, live liveOptions) (*driver, error) {
	tc, err := client.DialContext(ctx, client.Options{HostPort: st.TemporalAddr, Logger: quiet{}})
	if err != nil {
		return nil, fmt.Errorf("dial temporal: %w", err)
	}
	nc, err := nats.Connect(st.NATSURL)
	if err != nil {
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	pool, err := pgxpool.New(ctx, st.DBURL)
	if err != nil {
		return nil, err
	}
	d := &driver{st: st, tc: tc, nc: nc, pool: pool, run: run, byID: map[string]*sample{},
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}},
		live: live, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9)), cpu: map[cpuKey]cpuUse{}}
	for _, t := range []contracts.EventType{contracts.EventShipped, contracts.EventCancelled, contracts.EventFailed, contracts.EventSignalRejected} {
		sub, err := nc.Subscribe(contracts.EventSubject("*", t), d.onTerminalEvent)
		if err != nil {
			return nil, err
		}
		_ = sub.SetPendingLimits(-1, -1)
	}
	go d.pollProjection(ctx)
	return d, nil
}

func (d *driver) Close() {
	d.tc.Close()
	d.nc.Close()
	d.pool.Close()
}

func (d *driver) onTerminalEvent(m *nats.Msg) {
	now := time.Now()
	orderID, t, err := contracts.ParseEventSubject(m.Subject)
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.byID[orderID]
	if !ok {
		return
	}
	if t == contracts.EventSignalRejected {
		// Only cancels are sent, so a rejection is the cancel's answer.
		if !s.cancelAt.IsZero() && s.CancelOutcome == "" {
			s.CancelLatency, s.CancelOutcome = now.Sub(s.cancelAt), "rejected"
		}
		return
	}
	if s.Terminal == 0 {
		s.Terminal = now.Sub(s.start)
		s.State = string(t)
	}
	if t == contracts.EventCancelled && !s.cancelAt.IsZero() && s.CancelOutcome == "" {
		s.CancelLatency, s.CancelOutcome = now.Sub(s.cancelAt), "cancelled"
	}
}

// pollProjection notes when each order's terminal row appears.
func (d *driver) pollProjection(ctx context.Context) {
	every(ctx, 50*time.Millisecond, func() {
		d.mu.Lock()
		var ids []string
		for id, s := range d.byID {
			if s.Projected == 0 && s.Err == "" {
				ids = append(ids, id)
			}
		}
		d.mu.Unlock()
		if len(ids) == 0 {
			return
		}
		rows, err := d.pool.Query(ctx, "SELECT order_id FROM orders WHERE terminal AND order_id = ANY($1)", ids)
		if err != nil {
			return
		}
		now := time.Now()
		d.mu.Lock()
		for rows.Next() {
			var id string
			if rows.Scan(&id) == nil {
				if s := d.byID[id]; s != nil && s.Projected == 0 {
					s.Projected = now.Sub(s.start)
				}
			}
		}
		d.mu.Unlock()
		rows.Close()
	})
}

// every runs f each interval until ctx ends.
func every(ctx context.Context, interval time.Duration, f func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		f()
	}
}

// segment offers orders through one arm at a constant rate for a duration,
// open loop: a slow start never delays the next arrival.
func (d *driver) segment(ctx context.Context, arm Arm, rate float64, dur time.Duration) {
	d.chargeCPU(cpuKey{arm, rate}, true)
	interval := time.Duration(float64(time.Second) / rate)
	n := int(dur.Seconds() * rate)
	begin := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if wait := time.Until(begin.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-time.After(wait):
			}
		}
		s := d.newSample(arm, rate)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.start(ctx, s)
		}()
	}
	wg.Wait()
}

func (d *driver) newSample(arm Arm, rate float64) *sample {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	s := &sample{Arm: arm, Rate: rate, OrderID: fmt.Sprintf("%s-%06d", d.run, d.seq)}
	d.byID[s.OrderID] = s
	d.samples = append(d.samples, s)
	return s
}

func (d *driver) start(ctx context.Context, s *sample) {
	paymentID := "pay-" + s.OrderID
	d.mu.Lock()
	s.start = time.Now()
	d.mu.Unlock()
	try := func(ctx context.Context) error {
		switch s.Arm {
		case ArmDirect:
			in := contracts.OrderInput{
				OrderID: s.OrderID, PaymentID: paymentID, Items: domain.DefaultItems(),
				Address: domain.DefaultAddress(), CommandID: "bench-" + s.OrderID, AcceptedAt: s.start,
			}
			_, err := d.tc.ExecuteWorkflow(ctx, temporalx.OrderStartOptions(in, contracts.TaskQueueOrders), contracts.WorkflowOrder, in)
			var already *serviceerror.WorkflowExecutionAlreadyStarted
			if d.retryFor > 0 && errors.As(err, &already) {
				return nil // an earlier try got through before its answer was lost
			}
			return err
		default:
			return d.post(ctx, "/orders/"+s.OrderID+"/start", "start-"+s.OrderID, `{"payment_id": "`+paymentID+`"}`)
		}
	}
	var err error
	if d.retryFor > 0 {
		err = retry(ctx, d.retryFor, try)
	} else {
		err = try(ctx)
	}
	accept := time.Since(s.start)
	d.mu.Lock()
	s.Accept = accept
	if err != nil {
		s.Err = err.Error()
	}
	cancel := err == nil && d.rng.Float64() < d.live.cancelShare
	delay := time.Duration(d.rng.Int64N(int64(max(d.live.cancelWithin, time.Millisecond))))
	d.mu.Unlock()
	if cancel {
		d.cancelWG.Go(func() { d.cancelLater(ctx, s, delay) })
	}
	if err == nil && d.updates > 0 {
		d.cancelWG.Go(func() { d.sendUpdates(ctx, s) })
	}
}

// updateStreet names address update k of an order, so its address_updated
// event says which update it applied.
func updateStreet(k int) string { return fmt.Sprintf("bench update %d", k) }

func updateCommandPrefix(orderID string) string { return "addr-" + orderID + "-" }

func updateCommandID(orderID string, k int) string {
	return updateCommandPrefix(orderID) + strconv.Itoa(k)
}

// sendUpdates sends the order's address updates through its own arm, each
// after the previous one was accepted (for the pipeline: stored in
// JetStream), retrying as a client would; it stops at the first that
// cannot be sent (e.g. the order has ended).
func (d *driver) sendUpdates(ctx context.Context, s *sample) {
	for k := 1; k <= d.updates; k++ {
		addr := domain.Address{Street: updateStreet(k), City: "Bench", State: "BE", ZipCode: "00000"}
		id := updateCommandID(s.OrderID, k)
		err := retry(ctx, 2*time.Minute, func(ctx context.Context) error {
			if s.Arm == ArmDirect {
				err := d.tc.SignalWorkflow(ctx, contracts.OrderWorkflowID(s.OrderID), "", contracts.SignalUpdateAddress,
					contracts.SignalPayload{CommandID: id, Address: &addr})
				if isNotFound(err) {
					return permanent{err}
				}
				return err
			}
			body := fmt.Sprintf(`{"street": %q, "city": %q, "state": %q, "zip_code": %q}`, addr.Street, addr.City, addr.State, addr.ZipCode)
			return d.post(ctx, "/orders/"+s.OrderID+"/signals/update-address", id, body)
		})
		if err != nil {
			return
		}
		d.mu.Lock()
		s.UpdatesSent = k
		d.mu.Unlock()
	}
}

// cancelLater sends the order a cancel through its own arm after delay.
func (d *driver) cancelLater(ctx context.Context, s *sample, delay time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Until(s.start.Add(delay))):
	}
	d.mu.Lock()
	if s.Terminal != 0 {
		d.mu.Unlock()
		return // ended before its cancel was due: nothing to measure
	}
	s.cancelAt = time.Now()
	d.mu.Unlock()
	outcome := ""
	err := d.sendCancel(ctx, s)
	switch {
	case isNotFound(err):
		outcome = "too_late"
	case err != nil:
		outcome = "error"
	}
	if outcome != "" {
		d.mu.Lock()
		if s.CancelOutcome == "" {
			s.CancelOutcome = outcome
		}
		d.mu.Unlock()
	}
}

// sendCancel signals cancel directly (arm A) or through the API (arm B),
// retrying as a client would while a dependency is down.
func (d *driver) sendCancel(ctx context.Context, s *sample) error {
	return retry(ctx, 2*time.Minute, func(ctx context.Context) error {
		if s.Arm == ArmDirect {
			err := d.tc.SignalWorkflow(ctx, contracts.OrderWorkflowID(s.OrderID), "", contracts.SignalCancel,
				contracts.SignalPayload{CommandID: "cancel-" + s.OrderID, Reason: "bench"})
			if isNotFound(err) {
				return permanent{err}
			}
			return err
		}
		return d.post(ctx, "/orders/"+s.OrderID+"/signals/cancel", "cancel-"+s.OrderID, `{"reason": "bench"}`)
	})
}

// post sends a command to the API with an Idempotency-Key, so a retry after
// a 503 (NATS down) or a timeout is the same command.
func (d *driver) post(ctx context.Context, path, key, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.st.APIURL+path, strings.NewReader(body))
	if err != nil {
		return permanent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return permanent{fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)}
}

// sampleStatus queries the status of a random running order at a steady
// rate until ctx ends.
func (d *driver) sampleStatus(ctx context.Context) {
	if d.live.statusPerSec <= 0 {
		return
	}
	every(ctx, time.Duration(float64(time.Second)/d.live.statusPerSec), func() {
		d.mu.Lock()
		var open []*sample
		for _, s := range d.samples {
			if s.Accept > 0 && s.Err == "" && s.Terminal == 0 {
				open = append(open, s)
			}
		}
		var s *sample
		if len(open) > 0 {
			s = open[d.rng.IntN(len(open))]
		}
		d.mu.Unlock()
		if s == nil {
			return
		}
		go func() {
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			begin := time.Now()
			v, err := d.tc.QueryWorkflow(qctx, contracts.OrderWorkflowID(s.OrderID), "", contracts.QueryStatus)
			var st contracts.OrderStatus
			if err == nil {
				err = v.Get(&st)
			}
			took := time.Since(begin)
			d.mu.Lock()
			defer d.mu.Unlock()
			if err != nil {
				d.statusErrs++
				return
			}
			d.statusLat = append(d.statusLat, took)
		}()
	})
}

// drain waits until every started order is terminal and projected, or timeout.
func (d *driver) drain(ctx context.Context, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		open := 0
		for _, s := range d.samples {
			if s.Err == "" && (s.Terminal == 0 || s.Projected == 0) {
				open++
			}
		}
		d.mu.Unlock()
		if open == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// take returns the samples, CPU use and status latencies collected so far
// and forgets them.
func (d *driver) take() batch {
	d.cancelWG.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := batch{samples: make([]sample, len(d.samples)), cpu: d.cpu, status: d.statusLat, statusErrs: d.statusErrs}
	for i, s := range d.samples {
		out.samples[i] = *s
		delete(d.byID, s.OrderID)
	}
	d.samples, d.cpu, d.statusLat, d.statusErrs = nil, map[cpuKey]cpuUse{}, nil, 0
	return out
}

// batch is what one measured part of a run collected.
type batch struct {
	samples    []sample
	cpu        map[cpuKey]cpuUse
	status     []time.Duration
	statusErrs int
}

// price reads the history of up to perRow orders of each arm and rate.
func (d *driver) price(ctx context.Context, samples []sample, perRow int) {
	count := map[cpuKey]int{}
	for i := range samples {
		s := &samples[i]
		k := cpuKey{s.Arm, s.Rate}
		if s.Err != "" || s.Terminal == 0 || count[k] >= perRow {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		p, _, err := orderPrice(pctx, d.tc, s.OrderID)
		cancel()
		if err != nil {
			continue
		}
		count[k]++
		s.Priced, s.Events, s.Actions = true, p.Events, p.Actions
	}
}

// permanent marks an error retry must not retry.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// retry calls f, each try with its own timeout (the SDK retries a call to an
// unreachable server until its context ends), until it succeeds, fails
// permanently or the budget is spent.
func retry(ctx context.Context, budget time.Duration, f func(ctx context.Context) error) error {
	deadline := time.Now().Add(budget)
	for {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := f(tctx)
		cancel()
		var perm permanent
		if err == nil || errors.As(err, &perm) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
