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
func summarise(samples []sample) []Row {
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
	for _, r := range rows {
		if r.FirstError != "" {
			fmt.Fprintf(&b, "\n%s at %.1f/s, first error: `%s`\n", r.Arm, r.OfferedPerSec, r.FirstError)
		}
	}
	return b.String()
}
