package projector

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderflow/orderflow/services/projector/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/ops"
)

// BudgetBuckets (seconds) are dense around the 15 s start-to-terminal
// budget, so the share of orders over it reads straight off a bucket.
var BudgetBuckets = []float64{0.5, 1, 2, 3, 4, 5, 6, 8, 10, 12, 13, 14, 15, 16, 18, 20, 25, 30, 45, 60, 120, 300}

// metrics are the projector's own and the order outcomes it derives from
// events. It sees every event of every order, so outcome metrics live here
// rather than in the workflow, whose code must stay deterministic.
// Delivery is at-least-once: an event redelivered after its commit (an ack
// lost) counts twice, which is rare and visible only as a small overcount.
type metrics struct {
	batchSize     prometheus.Histogram
	commitLatency *prometheus.HistogramVec
	events        *prometheus.CounterVec
	terminal      *prometheus.CounterVec
	payments      *prometheus.CounterVec
	orderLatency  *prometheus.HistogramVec
	stepAttempts  *prometheus.HistogramVec
	deadLettered  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ops.Namespace, Subsystem: "projector", Name: "batch_size_events",
			Help: "Events written per PostgreSQL transaction.", Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		commitLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ops.Namespace, Subsystem: "projector", Name: "commit_duration_seconds",
			Help: "Time to write and commit one batch, by result (ok, error).", Buckets: ops.LatencyBuckets,
		}, []string{"result"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ops.Namespace, Subsystem: "projector", Name: "events_projected_total",
			Help: "Events projected into PostgreSQL by type.",
		}, []string{"type"}),
		terminal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ops.Namespace, Subsystem: "orders", Name: "terminal_total",
			Help: "Orders that reached a terminal state (shipped, cancelled, failed).",
		}, []string{"state"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ops.Namespace, Subsystem: "payments", Name: "total",
			Help: "Payments by outcome (charged, refunded).",
		}, []string{"outcome"}),
		orderLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ops.Namespace, Subsystem: "orders", Name: "start_to_terminal_seconds",
			Help:    "From accepted start to terminal state, by terminal state and review (auto, manual: manual includes human time, outside the 15 s budget).",
			Buckets: BudgetBuckets,
		}, []string{"state", "review"}),
		stepAttempts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ops.Namespace, Subsystem: "orders", Name: "step_attempts",
			Help:    "Attempts each step of a finished order took (1 = no retry).",
			Buckets: []float64{1, 2, 3, 4, 5, 6, 8, 10, 15, 20},
		}, []string{"step"}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ops.Namespace, Subsystem: "projector", Name: "events_dead_lettered_total",
			Help: "Events that can never be projected, parked on the dead-letter subject.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.batchSize, m.commitLatency, m.events, m.terminal, m.payments, m.orderLatency, m.stepAttempts, m.deadLettered)
	}
	return m
}

// observe records what one projected event says about its order.
func (m *metrics) observe(ev app.Event) {
	m.events.WithLabelValues(string(ev.Type)).Inc()
	switch ev.Type {
	case contracts.EventPaymentCharged:
		m.payments.WithLabelValues("charged").Inc()
	case contracts.EventPaymentRefunded:
		m.payments.WithLabelValues("refunded").Inc()
	}
	o := ev.Order
	if !o.State.Terminal() || o.CompletedAt == nil {
		return
	}
	// Only the event that made the order terminal counts, not a later
	// signal_rejected that still carries a terminal snapshot.
	switch ev.Type {
	case contracts.EventShipped, contracts.EventCancelled, contracts.EventFailed:
	default:
		return
	}
	state := string(o.State)
	m.terminal.WithLabelValues(state).Inc()
	review := "auto"
	if o.ManualReview {
		review = "manual"
	}
	if !o.AcceptedAt.IsZero() {
		m.orderLatency.WithLabelValues(state, review).Observe(o.CompletedAt.Sub(o.AcceptedAt).Seconds())
	}
	for step, n := range o.Attempts {
		m.stepAttempts.WithLabelValues(string(step)).Observe(float64(n))
	}
}

// timedWriter measures every batch the projection writes.
type timedWriter struct {
	w app.Writer
	m *metrics
}

func (t timedWriter) Write(ctx context.Context, events []app.Event) error {
	start := time.Now()
	err := t.w.Write(ctx, events)
	result := "ok"
	if err != nil {
		result = "error"
	}
	t.m.commitLatency.WithLabelValues(result).Observe(time.Since(start).Seconds())
	t.m.batchSize.Observe(float64(len(events)))
	return err
}

// observedProjector counts an event's order outcome once it is stored.
type observedProjector struct {
	p app.Projector
	m *metrics
}

func (o observedProjector) Project(ctx context.Context, ev app.Event) error {
	if err := o.p.Project(ctx, ev); err != nil {
		return err
	}
	o.m.observe(ev)
	return nil
}

// openOrders reports, at scrape time, how many orders are not terminal and
// how long the oldest has sat in its current step, per step: the signal for
// an order stuck in one step.
type openOrders struct {
	pool       *pgxpool.Pool
	count, age *prometheus.Desc
}

func newOpenOrders(pool *pgxpool.Pool) prometheus.Collector {
	return &openOrders{
		pool: pool,
		count: prometheus.NewDesc(prometheus.BuildFQName(ops.Namespace, "orders", "open"),
			"Orders not yet terminal, by current step (from the projection).", []string{"step"}, nil),
		age: prometheus.NewDesc(prometheus.BuildFQName(ops.Namespace, "orders", "oldest_in_step_seconds"),
			"Seconds since the longest-waiting open order last changed, by current step.", []string{"step"}, nil),
	}
}

func (c *openOrders) Describe(ch chan<- *prometheus.Desc) { ch <- c.count; ch <- c.age }

func (c *openOrders) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ops.CheckTimeout)
	defer cancel()
	rows, err := c.pool.Query(ctx, `SELECT step, count(*), EXTRACT(EPOCH FROM now() - min(updated_at))::float8
		FROM orders WHERE NOT terminal GROUP BY step`)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var (
			step string
			n    int64
			age  float64
		)
		if rows.Scan(&step, &n, &age) != nil {
			return
		}
		ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n), step)
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age, step)
	}
}
