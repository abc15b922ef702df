package ports

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"

	"github.com/orderflow/orderflow/services/bridge/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/ops"
)

var tracer = otel.Tracer("github.com/orderflow/orderflow/services/bridge")

// Dead-letter reasons as metric labels: the full reason text (in the DLQ
// header and the result) names IDs and would explode the label's cardinality.
const (
	dlqUndecodable   = "undecodable"
	dlqRefused       = "refused_by_temporal"
	dlqMaxDeliveries = "max_deliveries"
)

// Metrics are the bridge's command counters and apply latency.
type Metrics struct {
	settled      *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
	applyLatency *prometheus.HistogramVec
	missed       prometheus.Counter
}

// NewMetrics registers the bridge's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		settled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ops.Namespace, Subsystem: "bridge", Name: "commands_total",
			Help: "Commands settled by kind and outcome (started, duplicate, applied, rejected) with the rejection reason.",
		}, []string{"kind", "outcome", "reason"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ops.Namespace, Subsystem: "bridge", Name: "commands_dead_lettered_total",
			Help: "Commands parked on the dead-letter subject by kind and reason.",
		}, []string{"kind", "reason"}),
		applyLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ops.Namespace, Subsystem: "bridge", Name: "apply_duration_seconds",
			Help:    "Time to settle one command against Temporal (all in-place retries) by kind.",
			Buckets: ops.LatencyBuckets,
		}, []string{"kind"}),
		missed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ops.Namespace, Subsystem: "bridge", Name: "deliveries_missed_total",
			Help: "Command deliveries that never reached this bridge while it held the pin (gaps in the consumer's delivery sequence).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.settled, m.deadLettered, m.applyLatency, m.missed)
	}
	return m
}

func (m *Metrics) observeSettled(kind contracts.CommandKind, res contracts.CommandResult, took time.Duration) {
	m.settled.WithLabelValues(string(kind), string(res.Outcome), rejectionLabel(res.Reason)).Inc()
	m.applyLatency.WithLabelValues(string(kind)).Observe(took.Seconds())
}

func (m *Metrics) observeDeadLetter(subject, reason string) {
	kind := "unknown"
	if _, k, err := contracts.ParseCommandSubject(subject); err == nil {
		kind = string(k)
	}
	m.deadLettered.WithLabelValues(kind, reason).Inc()
}

func (m *Metrics) observeMissedDeliveries(n uint64) { m.missed.Add(float64(n)) }

func rejectionLabel(reason string) string {
	switch reason {
	case "":
		return ""
	case app.ReasonDifferentPayment:
		return "different_payment"
	case app.ReasonFinished:
		return "finished"
	case app.ReasonUnknownOrder:
		return "unknown_order"
	}
	return "other"
}
