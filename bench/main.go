// Command bench drives orders through the whole running system at a constant
// arrival rate (open loop) through two arms in the same run, interleaved on
// the same warm stack: A starts OrderWorkflow directly with the Temporal
// client, B goes through the HTTP API, JetStream and the bridge. It reports
// accept latency, start-to-terminal and accept-to-projection times per arm as
// JSON and as a Markdown table. See BENCHMARKS.md for results and commands.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/shared/devserver"
)

func main() {
	scenario := flag.String("scenario", "quick", "quick | capacity | faults | chaos | scaling")
	ratesFlag := flag.String("rates", "4,8,12,16,20", "capacity: offered orders/s per arm, rising")
	rate := flag.Float64("rate", 5, "faults, quick: offered orders/s per arm")
	orders := flag.Int("orders", 1000, "faults: orders per arm")
	segment := flag.Duration("segment", 10*time.Second, "length of one arm's turn; turns go A,B,B,A,A,B,…")
	rounds := flag.Int("rounds", 2, "capacity: A/B turn pairs per rate")
	out := flag.String("out", "bench/results", "directory for the JSON and Markdown reports")
	pragmas := flag.String("sqlite-pragmas", "", `dev server SQLite pragmas, comma-separated; "none" for SQLite's defaults; empty for the run command's default`)
	dynamic := flag.String("dynamic-config", "", `dev server dynamic config (key=JSON), comma-separated; "none" for the server's defaults; empty for the run command's default`)
	telemetry := flag.String("telemetry", "off", "off | on | both: tracing and metrics off, on (OTLP export, scraped /metrics), or one full run each, off first")
	eager := flag.Bool("eager", true, "dev server eager activity execution; false runs the default dynamic config with system.enableActivityEagerExecution=false (ignored with -dynamic-config)")
	priceSample := flag.Int("price-sample", 100, "orders per arm and rate whose history is read for the price table (events, actions); 0: none")
	statusQPS := flag.Float64("status-qps", 0, "status queries per second on random running orders (live status latency); chaos: 5 unless set")
	cancelShare := flag.Float64("cancel-share", 0, "share of orders cancelled at a random moment (cancel latency); chaos: 0.25 unless set")
	cancelWithin := flag.Duration("cancel-within", 3*time.Second, "a cancel is sent up to this long after its order's start")
	chaosEvery := flag.Duration("chaos-every", 12*time.Second, "chaos: time between two SIGKILLs")
	down := flag.Duration("down", 2*time.Second, "chaos: how long a killed process stays down before it is started again")
	profile := flag.String("profile", "dev", "chaos: dev (.bin/devstack, the dev server) or prod (.bin/prodstack: Temporal server on PostgreSQL, NATS cluster, replicas)")
	shards := flag.Int("shards", 4, "prod profile: Temporal history shards")
	replicas := flag.Int("replicas", 2, "prod profile: replicas of every service")
	addressUpdates := flag.Int("address-updates", 0, "chaos: address updates sent after each start, one after the other (per-order command order); prod profile: 3 unless set")
	configs := flag.String("configs", "dev,prod:1:1,prod:4:1,prod:16:1,prod:4:2", "scaling: configurations measured in turn, dev or prod:<history shards>:<replicas of every service>")
	binDir := flag.String("bin", "", "directory of the run command and service binaries (default <repo>/.bin): another commit's .bin measures the code before a change")
	flag.Parse()

	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *scenario == "chaos" {
		if !set["status-qps"] {
			*statusQPS = 5
		}
		if !set["cancel-share"] {
			*cancelShare = 0.25
		}
		if !set["orders"] {
			*orders = 500
		}
		if !set["rate"] {
			*rate = 4
		}
		if *profile == "prod" && !set["address-updates"] {
			*addressUpdates = 3
		}
	}
	if *profile != "dev" && *profile != "prod" {
		fmt.Fprintf(os.Stderr, "bench: -profile %q: want dev or prod\n", *profile)
		os.Exit(2)
	}
	if !*eager && *dynamic == "" {
		*dynamic = withoutEager(devserver.DefaultDynamicConfig)
	}
	o := options{scenario: *scenario, rates: *ratesFlag, rate: *rate, orders: *orders, segment: *segment, rounds: *rounds, out: *out,
		tune: tuning{sqlitePragmas: *pragmas, dynamicConfig: *dynamic}, priceSample: *priceSample,
		live:       liveOptions{statusPerSec: *statusQPS, cancelShare: *cancelShare, cancelWithin: *cancelWithin},
		chaosEvery: *chaosEvery, down: *down, binDir: *binDir,
		profile: *profile, shards: *shards, replicas: *replicas, addressUpdates: *addressUpdates, configs: *configs}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	modes := []string{*telemetry}
	if *telemetry == "both" {
		modes = []string{"off", "on"}
	}
	for _, mode := range modes {
		o.tune.telemetry = mode
		if err := run(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

// options are the command line.
type options struct {
	scenario, rates string
	rate            float64
	orders          int
	segment         time.Duration
	rounds          int
	out             string
	tune            tuning
	priceSample     int
	live            liveOptions
	chaosEvery      time.Duration
	down            time.Duration
	binDir          string
	profile         string // dev or prod
	shards          int
	replicas        int
	addressUpdates  int
	configs         string
}

// withoutEager is the default dynamic config with eager activity execution
// turned off, so a run measures what eager execution buys.
func withoutEager(def []string) string {
	var out []string
	for _, kv := range def {
		if strings.HasPrefix(kv, "system.enableActivityEagerExecution=") {
			kv = "system.enableActivityEagerExecution=false"
		}
		out = append(out, kv)
	}
	return strings.Join(out, ",")
}

func run(ctx context.Context, o options) error {
	scenario, ratesFlag, rate, orders, segment, rounds, out, tune := o.scenario, o.rates, o.rate, o.orders, o.segment, o.rounds, o.out, o.tune
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	faults := scenario == "faults"
	var rates []float64
	switch scenario {
	case "capacity":
		for _, f := range strings.Split(ratesFlag, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || r <= 0 {
				return fmt.Errorf("bad rate %q", f)
			}
			rates = append(rates, r)
		}
	case "faults", "quick":
		rates = []float64{rate}
	case "chaos":
		return runChaos(ctx, root, out, o)
	case "scaling":
		return runScaling(ctx, root, out, o)
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}

	stamp := time.Now().UTC().Format("20060102T150405") + "-telemetry-" + tune.telemetry
	dataDir, err := runDirs(out, "orderflow-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	logPath := filepath.Join(out, scenario+"-"+stamp+".stack.log")
	fmt.Printf("starting the stack (faults %v); log: %s\n", faults, logPath)
	st, err := startStack(ctx, root, dataDir, logPath, stackOptions{faults: faults, tune: tune, dbName: "orderflow_bench_" + strings.ToLower(stamp), binDir: o.binDir})
	if err != nil {
		return err
	}
	defer st.Stop()
	devConfig := devServerDynamicConfig(st.PID())
	fmt.Println("dev server dynamic config:", devConfig)
	d, err := newDriver(ctx, st, "bench-"+strings.ToLower(stamp), o.live)
	if err != nil {
		return err
	}
	defer d.Close()
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go d.sampleStatus(sctx)

	// Warm up both paths so the first measured orders pay no connection or
	// cache cost.
	d.segment(ctx, ArmDirect, 2, 3*time.Second)
	d.segment(ctx, ArmPipeline, 2, 3*time.Second)
	d.drain(ctx, 60*time.Second)
	d.chargeCPU(cpuKey{}, false)
	d.take()

	var all []Row
	var lives []*Live
	var baselineP99 map[Arm]float64
	for _, r := range rates {
		turns := rounds
		if faults {
			turns = max(1, int(float64(orders)/(r*segment.Seconds())+0.999))
		}
		fmt.Printf("rate %.1f/s per arm: %d turns of %s per arm\n", r, turns, segment)
		for i := 0; i < turns && ctx.Err() == nil; i++ {
			// A,B then B,A: neither arm always inherits the other's backlog.
			arms := []Arm{ArmDirect, ArmPipeline}
			if i%2 == 1 {
				arms = []Arm{ArmPipeline, ArmDirect}
			}
			for _, arm := range arms {
				d.segment(ctx, arm, r, segment)
			}
		}
		d.drain(ctx, 90*time.Second)
		d.chargeCPU(cpuKey{}, false)
		b := d.take()
		if o.priceSample > 0 {
			d.price(ctx, b.samples, o.priceSample)
		}
		rows := summarise(b)
		l := live(b)
		lives = append(lives, l)
		if scenario == "capacity" {
			if baselineP99 == nil {
				baselineP99 = map[Arm]float64{}
				for _, row := range rows {
					baselineP99[row.Arm] = row.Terminal.P99
				}
			}
			for i := range rows {
				flat := rows[i].Unfinished == 0 && rows[i].Errors == 0 &&
					rows[i].Terminal.P99 <= 2*baselineP99[rows[i].Arm]+500
				rows[i].Flat = &flat
			}
		}
		fmt.Print(markdown(fmt.Sprintf("%.1f orders/s per arm", r), rows) + l.markdown())
		all = append(all, rows...)
	}

	title := fmt.Sprintf("%s scenario, %s UTC", scenario, stamp)
	md := markdown(title, all)
	report := map[string]any{"scenario": scenario, "faults": faults, "segment": segment.String(),
		"sqlite_pragmas": tune.sqlitePragmas, "dynamic_config": tune.dynamicConfig, "dev_server_dynamic_config": devConfig, "command": strings.Join(os.Args, " "), "rows": all}
	if o.live.statusPerSec > 0 || o.live.cancelShare > 0 {
		report["live"] = lives
		for i, l := range lives {
			if l != nil {
				md += fmt.Sprintf("\nlive measurements at %.1f orders/s per arm:\n%s", rates[i], l.markdown())
			}
		}
	}
	js, _ := json.MarshalIndent(report, "", "  ")
	base := filepath.Join(out, scenario+"-"+stamp)
	if err := os.WriteFile(base+".md", []byte(md), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", js, 0o644); err != nil {
		return err
	}
	fmt.Printf("\n%s\nwritten: %s.md, %s.json\n", md, base, base)
	return nil
}

// runDirs makes the results directory out and a data directory of its own
// for the stack (prefix: the scenario), which the caller removes.
func runDirs(out, prefix string) (dataDir string, err error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp("", prefix)
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run bench from inside the repository")
		}
		dir = parent
	}
}
