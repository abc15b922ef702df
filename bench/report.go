package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Row summarises one arm at one offered rate.
type Row struct {
	Arm            Arm            `json:"arm"`
	OfferedPerSec  float64        `json:"offered_per_sec"`
	Orders         int            `json:"orders"`
	Errors         int            `json:"errors"`
	Unfinished     int            `json:"unfinished"`
	ThroughputPerS float64        `json:"throughput_per_sec"`
	Accept         Dist           `json:"accept_ms"`
	Terminal       Dist           `json:"start_to_terminal_ms"`
	Projected      Dist           `json:"accept_to_projection_ms"`
	Within15s      float64        `json:"share_within_15s"`
	States         map[string]int `json:"terminal_states"`
	FirstError     string         `json:"first_error,omitempty"`
	Flat           *bool          `json:"backlog_flat,omitempty"`
	Price          *Price         `json:"price_per_order,omitempty"`
}

// Price is what an order of a row cost, on average: history events and
// estimated Temporal Cloud actions over the priced orders (parent and
// children, see actions), and CPU time per order at the row's rate, both
// arms together (the dev server alone, and all of the run command's
// children), from the start of the rate's first segment to its drain.
type Price struct {
	Priced         int     `json:"priced_orders"`
	HistoryEvents  float64 `json:"history_events"`
	Actions        float64 `json:"actions"`
	TemporalCPUms  float64 `json:"dev_server_cpu_ms"`
	StackCPUms     float64 `json:"stack_cpu_ms"`
	EventsMax      int     `json:"history_events_max"`
	ActionsMax     int     `json:"actions_max"`
	TemporalCPUSum float64 `json:"dev_server_cpu_ms_at_rate"`
}

// Live is the live status and cancel latency of a run (-status-qps,
// -cancel-share).
type Live struct {
	Status        Dist           `json:"status_query_ms"`
	StatusErrors  int            `json:"status_query_errors"`
	Cancel        Dist           `json:"cancel_to_outcome_ms"`
	CancelOutcome map[string]int `json:"cancel_outcomes"`
}

func live(b batch) *Live {
	if len(b.status) == 0 && b.statusErrs == 0 {
		l := &Live{CancelOutcome: map[string]int{}}
		if fillCancels(l, b.samples) == 0 {
			return nil
		}
		return l
	}
	l := &Live{Status: dist(b.status), StatusErrors: b.statusErrs, CancelOutcome: map[string]int{}}
	fillCancels(l, b.samples)
	return l
}

func fillCancels(l *Live, samples []sample) int {
	var lat []time.Duration
	n := 0
	for _, s := range samples {
		if s.cancelAt.IsZero() {
			continue
		}
		n++
		o := s.CancelOutcome
		if o == "" {
			o = "no_answer" // the order ended otherwise and no rejection was seen
		}
		l.CancelOutcome[o]++
		if s.CancelLatency > 0 {
			lat = append(lat, s.CancelLatency)
		}
	}
	l.Cancel = dist(lat)
	return n
}

func (l *Live) markdown() string {
	if l == nil {
		return ""
	}
	return fmt.Sprintf("\n| live | n | p50 | p99 | max | other |\n|---|---|---|---|---|---|\n"+
		"| status query (running orders) | %d | %.1f ms | %.1f ms | %.1f ms | %d errors |\n"+
		"| cancel → cancelled or signal_rejected event | %d | %.0f ms | %.0f ms | %.0f ms | outcomes %v |\n",
		l.Status.N, l.Status.P50, l.Status.P99, l.Status.Max, l.StatusErrors,
		l.Cancel.N, l.Cancel.P50, l.Cancel.P99, l.Cancel.Max, l.CancelOutcome)
}

// Dist is a latency distribution in milliseconds.
type Dist struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func dist(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	slices.Sort(ds)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ms(ds[max(0, min(i, len(ds)-1))])
	}
	return Dist{N: len(ds), P50: q(0.50), P95: q(0.95), P99: q(0.99), P999: q(0.999), Max: ms(ds[len(ds)-1])}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// summarise groups samples by arm and rate.
func summarise(b batch) []Row {
	samples := b.samples
	type key struct {
		arm  Arm
		rate float64
	}
	groups := map[key][]sample{}
	var keys []key
	for _, s := range samples {
		k := key{s.Arm, s.Rate}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.rate != b.rate {
			return int(math.Copysign(1, a.rate-b.rate))
		}
		return strings.Compare(string(a.arm), string(b.arm))
	})
	var rows []Row
	for _, k := range keys {
		g := groups[k]
		r := Row{Arm: k.arm, OfferedPerSec: k.rate, Orders: len(g), States: map[string]int{}}
		var accept, term, proj []time.Duration
		within := 0
		for _, s := range g {
			if s.Err != "" {
				r.Errors++
				if r.FirstError == "" {
					r.FirstError = s.Err
				}
				continue
			}
			accept = append(accept, s.Accept)
			if s.Terminal == 0 {
				r.Unfinished++
				continue
			}
			r.States[s.State]++
			term = append(term, s.Terminal)
			if s.Terminal <= 15*time.Second {
				within++
			}
			if s.Projected > 0 {
				proj = append(proj, s.Projected-s.Accept)
			}
		}
		r.Accept, r.Terminal, r.Projected = dist(accept), dist(term), dist(proj)
		// Arms take turns on one stack and an order outlives its segment, so
		// CPU is shared per rate: both arms' segments over both arms' orders.
		var cpu cpuUse
		ordersAtRate := 0
		for ck, u := range b.cpu {
			if ck.rate == k.rate {
				cpu.temporal += u.temporal
				cpu.stack += u.stack
			}
		}
		for gk, gs := range groups {
			if gk.rate == k.rate {
				ordersAtRate += len(gs)
			}
		}
		r.Price = rowPrice(g, cpu, ordersAtRate)
		if len(g) > 0 {
			r.Within15s = float64(within) / float64(len(g))
		}
		rows = append(rows, r)
	}
	return rows
}

func markdown(title string, rows []Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", title)
	b.WriteString("| arm | offered/s | orders | errors | unfinished | accept p50 | accept p99 | e2e p50 | e2e p95 | e2e p99 | e2e p99.9 | e2e max | within 15 s | projection p50 | projection p99 | flat |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		flat := ""
		if r.Flat != nil {
			flat = map[bool]string{true: "yes", false: "no"}[*r.Flat]
		}
		fmt.Fprintf(&b, "| %s | %.1f | %d | %d | %d | %.1f ms | %.1f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.2f%% | %.0f ms | %.0f ms | %s |\n",
			r.Arm, r.OfferedPerSec, r.Orders, r.Errors, r.Unfinished,
			r.Accept.P50, r.Accept.P99, r.Terminal.P50, r.Terminal.P95, r.Terminal.P99, r.Terminal.P999, r.Terminal.Max,
			100*r.Within15s, r.Projected.P50, r.Projected.P99, flat)
	}
	b.WriteString(priceMarkdown(rows))
	for _, r := range rows {
		if r.FirstError != "" {
			fmt.Fprintf(&b, "\n%s at %.1f/s, first error: `%s`\n", r.Arm, r.OfferedPerSec, r.FirstError)
		}
	}
	return b.String()
}

func rowPrice(g []sample, cpu cpuUse, ordersAtRate int) *Price {
	p := &Price{}
	var events, acts int
	for _, s := range g {
		if s.Priced {
			p.Priced++
			events += s.Events
			acts += s.Actions
			p.EventsMax, p.ActionsMax = max(p.EventsMax, s.Events), max(p.ActionsMax, s.Actions)
		}
	}
	if p.Priced == 0 && cpu.temporal == 0 {
		return nil
	}
	if p.Priced > 0 {
		p.HistoryEvents = round1(float64(events) / float64(p.Priced))
		p.Actions = round1(float64(acts) / float64(p.Priced))
	}
	if ordersAtRate > 0 {
		p.TemporalCPUms = round1(ms(cpu.temporal) / float64(ordersAtRate))
		p.StackCPUms = round1(ms(cpu.stack) / float64(ordersAtRate))
	}
	p.TemporalCPUSum = ms(cpu.temporal)
	return p
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// priceMarkdown is the price table of rows that have one.
func priceMarkdown(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		if r.Price == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\n| arm | offered/s | priced orders | history events/order | max | actions/order | max | dev-server CPU-ms/order | stack CPU-ms/order |\n|---|---|---|---|---|---|---|---|---|\n")
		}
		p := r.Price
		cpu := "n/a | n/a" // not measured (chaos: CPU counters restart with each process)
		if p.TemporalCPUSum > 0 {
			cpu = fmt.Sprintf("%.1f | %.1f", p.TemporalCPUms, p.StackCPUms)
		}
		fmt.Fprintf(&b, "| %s | %.1f | %d | %.1f | %d | %.1f | %d | %s |\n",
			r.Arm, r.OfferedPerSec, p.Priced, p.HistoryEvents, p.EventsMax, p.Actions, p.ActionsMax, cpu)
	}
	return b.String()
}
