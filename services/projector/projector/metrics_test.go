package projector

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/orderflow/orderflow/services/projector/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
)

// Order outcomes are counted once, from the event that made the order
// terminal, with the start-to-terminal time from its snapshot.
func TestOrderOutcomeMetrics(t *testing.T) {
	m := newMetrics(prometheus.NewRegistry())
	accepted := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	done := accepted.Add(4 * time.Second)
	ev := func(typ contracts.EventType, state domain.OrderState, manual bool) app.Event {
		o := contracts.OrderStatus{State: state, AcceptedAt: accepted, ManualReview: manual,
			Attempts: map[domain.Step]int{domain.StepChargePayment: 3}}
		if state.Terminal() {
			o.CompletedAt = &done
		}
		return app.Event{Event: contracts.Event{Type: typ, Order: o}}
	}
	for _, e := range []app.Event{
		ev(contracts.EventPaymentCharged, domain.StatePaid, false),
		ev(contracts.EventShipped, domain.StateShipped, false),
		ev(contracts.EventSignalRejected, domain.StateShipped, false), // a late cancel: not a second finish
		ev(contracts.EventPaymentRefunded, domain.StateCancelled, true),
		ev(contracts.EventCancelled, domain.StateCancelled, true),
	} {
		m.observe(e)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"shipped", testutil.ToFloat64(m.terminal.WithLabelValues("shipped")), 1},
		{"cancelled", testutil.ToFloat64(m.terminal.WithLabelValues("cancelled")), 1},
		{"charged", testutil.ToFloat64(m.payments.WithLabelValues("charged")), 1},
		{"refunded", testutil.ToFloat64(m.payments.WithLabelValues("refunded")), 1},
		{"events", float64(testutil.CollectAndCount(m.events)), 5},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	// One observation of 4 s for the unattended shipped order, in the
	// auto population only.
	if n := testutil.CollectAndCount(m.orderLatency); n != 2 {
		t.Errorf("%d latency series, want auto/shipped and manual/cancelled", n)
	}
	var d dto.Metric
	if err := m.orderLatency.WithLabelValues("shipped", "auto").(prometheus.Metric).Write(&d); err != nil {
		t.Fatal(err)
	}
	if got := d.GetHistogram(); got.GetSampleCount() != 1 || got.GetSampleSum() != 4 {
		t.Errorf("latency: %d observations summing to %v, want one of 4 s", got.GetSampleCount(), got.GetSampleSum())
	}
}
