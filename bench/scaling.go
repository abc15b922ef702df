package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/orderflow/orderflow/shared/pgxx"
)

// scalingConfig is one deployment the scaling scenario measures.
type scalingConfig struct {
	Name     string `json:"name"`
	Prod     bool   `json:"production_profile"`
	Shards   int    `json:"history_shards,omitempty"`
	Replicas int    `json:"replicas,omitempty"`
}

// parseScalingConfigs reads -configs: "dev" or "prod:<shards>:<replicas>",
// comma-separated.
func parseScalingConfigs(s string) ([]scalingConfig, error) {
	var out []scalingConfig
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "dev" {
			out = append(out, scalingConfig{Name: "dev server"})
			continue
		}
		parts := strings.Split(f, ":")
		if len(parts) != 3 || parts[0] != "prod" {
			return nil, fmt.Errorf("config %q: want dev or prod:<shards>:<replicas>", f)
		}
		shards, err1 := strconv.Atoi(parts[1])
		replicas, err2 := strconv.Atoi(parts[2])
		if err1 != nil || err2 != nil || shards < 1 || replicas < 1 {
			return nil, fmt.Errorf("config %q: shards and replicas must be positive numbers", f)
		}
		out = append(out, scalingConfig{Name: fmt.Sprintf("prod %d shards ×%d", shards, replicas), Prod: true, Shards: shards, Replicas: replicas})
	}
	return out, nil
}

// scalingPoint is one configuration at one offered rate.
type scalingPoint struct {
	Config  string  `json:"config"`
	Offered float64 `json:"offered_per_sec"`
	Row     Row     `json:"row"`
	// TemporalCPUms is the Temporal process's CPU time per order (dev
	// server or server), from /proc, over the step and its drain.
	TemporalCPUms float64 `json:"temporal_cpu_ms_per_order"`
	StackCPUms    float64 `json:"stack_cpu_ms_per_order"`
	HistoryEvents float64 `json:"history_events_per_order"`
	Flat          bool    `json:"flat"`
}

// runScaling measures each configuration in turn on the same machine, in
// one run: a fresh stack, then capacity steps at rising rates through the
// pipeline arm with faults off, until a step is no longer flat (the knee).
// A step is flat when every order finished without errors and its e2e p99
// stays within twice the first configuration's first p99 plus 500 ms: the
// same yardstick for every configuration.
func runScaling(ctx context.Context, root, out string, o options) error {
	configs, err := parseScalingConfigs(o.configs)
	if err != nil {
		return err
	}
	var rates []float64
	for _, f := range strings.Split(o.rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("bad rate %q", f)
		}
		rates = append(rates, r)
	}
	stamp := time.Now().UTC().Format("20060102T150405")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	base := filepath.Join(out, "scaling-"+stamp)
	var points []scalingPoint
	baseline := 0.0 // e2e p99 of the first configuration's first step: one yardstick for all
	for i, c := range configs {
		ps, err := scaleConfig(ctx, root, fmt.Sprintf("%s-%d", base, i), stamp, i, c, rates, &baseline, o)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		points = append(points, ps...)
	}

	md := scalingMarkdown(stamp, strings.Join(os.Args, " "), o, configs, points)
	js, _ := json.MarshalIndent(map[string]any{"command": strings.Join(os.Args, " "), "segment": o.segment.String(),
		"configs": configs, "points": points}, "", "  ")
	if err := os.WriteFile(base+".md", []byte(md), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", js, 0o644); err != nil {
		return err
	}
	plots, err := scalingPlots(base, configs, points)
	if err != nil {
		return err
	}
	fmt.Printf("\n%s\nwritten: %s.md, %s.json, %s\n", md, base, base, strings.Join(plots, ", "))
	return nil
}

// scaleConfig runs the capacity steps on one fresh stack.
func scaleConfig(ctx context.Context, root, base, stamp string, idx int, c scalingConfig, rates []float64, baseline *float64, o options) ([]scalingPoint, error) {
	dataDir, err := os.MkdirTemp("", "orderflow-scaling-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dataDir)
	fmt.Printf("== %s: starting; log %s.stack.log\n", c.Name, base)
	var st *stack
	if c.Prod {
		st, err = startProdStack(ctx, root, dataDir, base+".stack.log", prodOptions{shards: c.Shards, replicas: c.Replicas,
			dbSuffix: fmt.Sprintf("scaling_%s_%d", strings.ToLower(stamp), idx), binDir: o.binDir})
	} else {
		st, err = startStack(ctx, root, dataDir, base+".stack.log", stackOptions{tune: o.tune,
			dbName: fmt.Sprintf("orderflow_scaling_%s_%d", strings.ToLower(stamp), idx), binDir: o.binDir})
	}
	if err != nil {
		return nil, err
	}
	if !c.Prod {
		// The dev profile's database is the bench's; the production
		// profile drops its own three.
		dbURL := st.DBURL
		st.dropDBs = func() {
			if err := pgxx.DropDatabase(context.Background(), dbURL); err != nil {
				fmt.Fprintln(os.Stderr, "bench: drop database:", err)
			}
		}
	}
	defer st.Stop()
	d, err := newDriver(ctx, st, fmt.Sprintf("scale-%s-%d", strings.ToLower(stamp), idx), liveOptions{})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	d.segment(ctx, ArmPipeline, 2, 3*time.Second)
	d.drain(ctx, 60*time.Second)
	d.chargeCPU(cpuKey{}, false)
	d.take()

	var points []scalingPoint
	for _, r := range rates {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.segment(ctx, ArmPipeline, r, o.segment)
		d.drain(ctx, 45*time.Second)
		d.chargeCPU(cpuKey{}, false)
		b := d.take()
		d.price(ctx, b.samples, 30)
		rows := summarise(b)
		if len(rows) == 0 {
			continue
		}
		row := rows[0]
		row.ThroughputPerS = throughput(b.samples)
		if *baseline == 0 {
			*baseline = row.Terminal.P99
		}
		p := scalingPoint{Config: c.Name, Offered: r, Row: row,
			Flat: row.Unfinished == 0 && row.Errors == 0 && row.Terminal.P99 <= 2**baseline+500}
		if row.Price != nil {
			p.TemporalCPUms, p.StackCPUms, p.HistoryEvents = row.Price.TemporalCPUms, row.Price.StackCPUms, row.Price.HistoryEvents
		}
		fmt.Printf("   %5.1f/s: throughput %.1f/s, e2e p50 %.0f ms p99 %.0f ms, unfinished %d, Temporal %.1f CPU-ms/order, %.1f history events/order, flat %v\n",
			r, row.ThroughputPerS, row.Terminal.P50, row.Terminal.P99, row.Unfinished, p.TemporalCPUms, p.HistoryEvents, p.Flat)
		points = append(points, p)
		if !p.Flat {
			break // past the knee: higher rates only pile up backlog
		}
	}
	return points, nil
}

// throughput is completed orders per second from the first start to the
// last terminal event.
func throughput(samples []sample) float64 {
	var first, last time.Time
	n := 0
	for _, s := range samples {
		if s.Err != "" || s.Terminal == 0 {
			continue
		}
		n++
		if first.IsZero() || s.start.Before(first) {
			first = s.start
		}
		if end := s.start.Add(s.Terminal); end.After(last) {
			last = end
		}
	}
	if n == 0 || !last.After(first) {
		return 0
	}
	return round1(float64(n) / last.Sub(first).Seconds())
}

func scalingMarkdown(stamp, command string, o options, configs []scalingConfig, points []scalingPoint) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### scaling scenario, %s UTC\n\n`%s`\n\n", stamp, command)
	fmt.Fprintf(&b, "Pipeline arm (HTTP → JetStream → bridge → Temporal), faults off, one %s step per offered rate on a fresh stack per configuration, rising until a step is not flat (an order unfinished 45 s after the step, an error, or e2e p99 over twice the first configuration's lowest-rate p99 plus 500 ms). ", o.segment)
	b.WriteString("Temporal CPU is the dev server's or the server's process (utime+stime from /proc) over the step and its drain, per order.\n\n")
	b.WriteString("| configuration | offered/s | orders | throughput/s | e2e p50 | e2e p99 | unfinished | Temporal CPU-ms/order | stack CPU-ms/order | history events/order | flat |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range points {
		fmt.Fprintf(&b, "| %s | %.0f | %d | %.1f | %.0f ms | %.0f ms | %d | %.1f | %.1f | %.1f | %v |\n",
			p.Config, p.Offered, p.Row.Orders, p.Row.ThroughputPerS, p.Row.Terminal.P50, p.Row.Terminal.P99, p.Row.Unfinished,
			p.TemporalCPUms, p.StackCPUms, p.HistoryEvents, p.Flat)
	}
	b.WriteString("\nknee (highest flat offered rate) per configuration: ")
	var knees []string
	for _, c := range configs {
		k := 0.0
		for _, p := range points {
			if p.Config == c.Name && p.Flat {
				k = p.Offered
			}
		}
		knees = append(knees, fmt.Sprintf("%s %.0f/s", c.Name, k))
	}
	b.WriteString(strings.Join(knees, ", ") + "\n")
	return b.String()
}

// scalingPlots draws the e2e percentiles, the throughput and the Temporal
// CPU per order against the offered rate, one line per configuration.
func scalingPlots(base string, configs []scalingConfig, points []scalingPoint) ([]string, error) {
	type metric struct {
		file, title, y string
		values         []func(scalingPoint) float64
		labels         []string
	}
	metrics := []metric{
		{"e2e", "start → terminal event (p50 solid, p99 dashed)", "ms",
			[]func(scalingPoint) float64{func(p scalingPoint) float64 { return p.Row.Terminal.P50 }, func(p scalingPoint) float64 { return p.Row.Terminal.P99 }},
			[]string{"p50", "p99"}},
		{"throughput", "completed orders per second", "orders/s",
			[]func(scalingPoint) float64{func(p scalingPoint) float64 { return p.Row.ThroughputPerS }}, []string{""}},
		{"cpu", "Temporal process CPU per order", "CPU-ms/order",
			[]func(scalingPoint) float64{func(p scalingPoint) float64 { return p.TemporalCPUms }}, []string{""}},
	}
	var files []string
	for _, m := range metrics {
		pl := plot.New()
		pl.Title.Text = m.title
		pl.X.Label.Text = "offered orders/s"
		pl.Y.Label.Text = m.y
		pl.Add(plotter.NewGrid())
		pl.Legend.Top, pl.Legend.Left = true, true
		for ci, c := range configs {
			for vi, value := range m.values {
				var xy plotter.XYs
				for _, p := range points {
					if p.Config == c.Name {
						xy = append(xy, plotter.XY{X: p.Offered, Y: value(p)})
					}
				}
				if len(xy) == 0 {
					continue
				}
				line, dots, err := plotter.NewLinePoints(xy)
				if err != nil {
					return nil, err
				}
				line.Color, dots.Color = palette[ci%len(palette)], palette[ci%len(palette)]
				dots.Shape = draw.CircleGlyph{}
				if vi == 1 {
					line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
				}
				pl.Add(line, dots)
				label := c.Name
				if m.labels[vi] != "" {
					label += " " + m.labels[vi]
				}
				pl.Legend.Add(label, line, dots)
			}
		}
		// SVG for the document, PNG for viewers that do not render SVG.
		for _, ext := range []string{".svg", ".png"} {
			file := base + "-" + m.file + ext
			if err := pl.Save(7*vg.Inch, 4.5*vg.Inch, file); err != nil {
				return nil, err
			}
			files = append(files, file)
		}
	}
	return files, nil
}

var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}
