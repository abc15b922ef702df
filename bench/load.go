package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/shared/contracts"
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
}

func newDriver(ctx context.Context, st *stack, run string) (*driver, error) {
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
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	for _, t := range []contracts.EventType{contracts.EventShipped, contracts.EventCancelled, contracts.EventFailed} {
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
	if s, ok := d.byID[orderID]; ok && s.Terminal == 0 {
		s.Terminal = now.Sub(s.start)
		s.State = string(t)
	}
}

// pollProjection notes when each order's terminal row appears.
func (d *driver) pollProjection(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		d.mu.Lock()
		var ids []string
		for id, s := range d.byID {
			if s.Projected == 0 && s.Err == "" {
				ids = append(ids, id)
			}
		}
		d.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		rows, err := d.pool.Query(ctx, "SELECT order_id FROM orders WHERE terminal AND order_id = ANY($1)", ids)
		if err != nil {
			continue
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
	}
}

// segment offers orders through one arm at a constant rate for a duration,
// open loop: a slow start never delays the next arrival.
func (d *driver) segment(ctx context.Context, arm Arm, rate float64, dur time.Duration) {
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
	s.start = time.Now()
	var err error
	switch s.Arm {
	case ArmDirect:
		_, err = d.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                       contracts.OrderWorkflowID(s.OrderID),
			TaskQueue:                contracts.TaskQueueOrders,
			Memo:                     map[string]any{contracts.MemoPaymentID: paymentID},
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			WorkflowTaskTimeout:      contracts.OrderWorkflowTaskTimeout,
		}, contracts.WorkflowOrder, contracts.OrderInput{
			OrderID: s.OrderID, PaymentID: paymentID, Items: contracts.DefaultItems(),
			Address: contracts.DefaultAddress(), CommandID: "bench-" + s.OrderID, AcceptedAt: s.start,
		})
	case ArmPipeline:
		var resp *http.Response
		resp, err = d.http.Post(d.st.APIURL+"/orders/"+s.OrderID+"/start", "application/json",
			strings.NewReader(`{"payment_id": "`+paymentID+`"}`))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
			}
		}
	}
	accept := time.Since(s.start)
	d.mu.Lock()
	s.Accept = accept
	if err != nil {
		s.Err = err.Error()
	}
	d.mu.Unlock()
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

// take returns the samples collected so far and forgets them.
func (d *driver) take() []sample {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]sample, len(d.samples))
	for i, s := range d.samples {
		out[i] = *s
		delete(d.byID, s.OrderID)
	}
	d.samples = nil
	return out
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
