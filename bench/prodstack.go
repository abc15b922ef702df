package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/netx"
	"github.com/orderflow/orderflow/shared/pgxx"
)

// prodOptions are what a scenario sets in the production run command.
type prodOptions struct {
	faults       bool
	dbSuffix     string
	shards       int
	replicas     int
	restartDelay time.Duration
	binDir       string
}

// startProdStack runs the production profile (.bin/prodstack: Temporal
// server on PostgreSQL, 3-node NATS cluster with R3 streams, replicas of
// every service) on free ports with three databases of its own, and waits
// until it says it is up. Stop drops the databases.
func startProdStack(ctx context.Context, root, dataDir, logPath string, o prodOptions) (*stack, error) {
	if o.binDir == "" {
		o.binDir = filepath.Join(root, ".bin")
	}
	binDir, err := filepath.Abs(o.binDir)
	if err != nil {
		return nil, err
	}
	// Temporal keeps its ports in a smallint: everything below 32768.
	var ports [7]int
	for i, n := range []int{104, 3, 3, 3, o.replicas, 5 * o.replicas, 1} {
		if ports[i], err = netx.FreeRange(n); err != nil {
			return nil, err
		}
	}
	temporalPort, natsPort, clusterPort, monitorPort, httpPort, opsPort, uiPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]
	pg := "postgres://postgres@127.0.0.1:5432/"
	dbs := map[string]string{
		"DATABASE_URL":             pg + "orderflow_" + o.dbSuffix + "?sslmode=disable",
		"TEMPORAL_PERSISTENCE_URL": pg + "orderflow_" + o.dbSuffix + "_temporal?sslmode=disable",
		"TEMPORAL_VISIBILITY_URL":  pg + "orderflow_" + o.dbSuffix + "_visibility?sslmode=disable",
	}
	var natsURLs []string
	for i := range 3 {
		natsURLs = append(natsURLs, fmt.Sprintf("nats://127.0.0.1:%d", natsPort+i))
	}
	s := &stack{
		APIURL:       fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		TemporalAddr: fmt.Sprintf("127.0.0.1:%d", temporalPort),
		NATSURL:      strings.Join(natsURLs, ","),
		DBURL:        dbs["DATABASE_URL"],
		prod:         true,
		stopTel:      func() {},
		dropDBs: func() {
			for _, u := range dbs {
				if err := pgxx.DropDatabase(context.Background(), u); err != nil {
					fmt.Fprintln(os.Stderr, "bench: drop database:", err)
				}
			}
		},
	}
	faults := "FAULTS=off"
	if o.faults {
		faults = "FAULTS=on"
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(filepath.Join(binDir, "prodstack"))
	s.cmd.Dir = root
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	s.cmd.Env = append(s.cmd.Env,
		"DATA_DIR="+dataDir, "BIN_DIR="+binDir, faults, "LOG_LEVEL=warn", "OTEL_SDK_DISABLED=true",
		"TEMPORAL_UI=false", fmt.Sprintf("TEMPORAL_HISTORY_SHARDS=%d", o.shards), fmt.Sprintf("REPLICAS=%d", o.replicas),
		fmt.Sprintf("TEMPORAL_PORT=%d", temporalPort), fmt.Sprintf("TEMPORAL_UI_PORT=%d", uiPort),
		fmt.Sprintf("NATS_PORT=%d", natsPort), fmt.Sprintf("NATS_CLUSTER_PORT=%d", clusterPort),
		fmt.Sprintf("NATS_MONITOR_PORT=%d", monitorPort),
		fmt.Sprintf("HTTP_PORT=%d", httpPort), fmt.Sprintf("OPS_PORT=%d", opsPort),
	)
	for k, v := range dbs {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	if o.restartDelay > 0 {
		s.cmd.Env = append(s.cmd.Env, "RESTART_CHILDREN=true", "RESTART_DELAY="+o.restartDelay.String())
	}
	if err := s.start(logFile, "prodstack (run `make build prod-tools` first)"); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(4 * time.Minute)
	for !logHas(logPath, "production profile is running") {
		select {
		case err := <-s.exited:
			s.dropDBs()
			return nil, fmt.Errorf("prodstack exited during start (%v); see %s", err, logPath)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("production profile not up after 4 minutes; see %s", logPath)
		}
	}
	return s, nil
}

func logHas(path, text string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), text) {
			return true
		}
	}
	return false
}

// prodTargets are killed in this order on the production profile: the
// node leading the command stream, the bridge that holds the pin, one
// order worker, one projector, the Temporal server.
var prodTargets = []string{"nats-leader", "bridge", "order-worker", "projector", "temporal-server"}

// prodKill kills one target of the production profile with SIGKILL and
// waits until the run command (RESTART_CHILDREN) has started it again.
func prodKill(ctx context.Context, d *driver, target string) kill {
	k := kill{Target: target}
	kctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	comm, choose := target, func(key string) bool { return true }
	switch target {
	case "nats-leader":
		leader, err := streamLeader(kctx, d.nc, contracts.StreamCommands)
		if err != nil {
			k.Err = err.Error()
			return k
		}
		k.Target = "nats " + leader + " (leads " + contracts.StreamCommands + ")"
		comm, choose = "nats-server", func(key string) bool { return strings.Contains(key, "/"+leader+".conf") }
	case "bridge":
		addr, how := pinnedBridge(kctx, d.st.PID())
		k.Target = "bridge on " + addr + " (" + how + ")"
		choose = func(key string) bool { return key == addr }
	}
	var key string
	var err error
	t0 := time.Now()
	k.OldPID, k.NewPID, key, err = killReplica(kctx, d.st.PID(), comm, choose)
	if err != nil {
		k.Err = err.Error()
	}
	if target == "order-worker" || target == "projector" {
		k.Target += " on " + key
	}
	k.DownSecs = time.Since(t0).Round(100 * time.Millisecond).Seconds()
	return k
}

// streamLeader is the name of the cluster node that leads a stream.
func streamLeader(ctx context.Context, nc *nats.Conn, stream string) (string, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return "", fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return "", err
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return "", fmt.Errorf("stream %s has no leader", stream)
	}
	return info.Cluster.Leader, nil
}

// pinnedBridge finds the bridge replica that holds the command consumer's
// pin: the one whose settled-commands counter moves under load (a standby
// settles none). It returns its ops address and how it was chosen.
func pinnedBridge(ctx context.Context, parent int) (addr, how string) {
	var addrs []string
	for _, pid := range childPIDs(parent, "bridge") {
		addrs = append(addrs, replicaKey(pid))
	}
	if len(addrs) == 0 {
		return "", "no bridge running"
	}
	before := map[string]float64{}
	for _, a := range addrs {
		before[a] = bridgeSettled(ctx, a)
	}
	select {
	case <-ctx.Done():
	case <-time.After(3 * time.Second):
	}
	best, moved := addrs[0], 0.0
	for _, a := range addrs {
		if n := bridgeSettled(ctx, a) - before[a]; n > moved {
			best, moved = a, n
		}
	}
	if moved == 0 {
		return best, "pin unknown: no bridge settled a command in 3 s"
	}
	return best, fmt.Sprintf("pinned: settled %.0f commands in 3 s", moved)
}

// bridgeSettled sums orderflow_bridge_commands_total on a bridge's ops
// listener; -1 when it cannot be read.
func bridgeSettled(ctx context.Context, opsAddr string) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+opsAddr+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	return sumMetric(bufio.NewScanner(resp.Body), "orderflow_bridge_commands_total")
}

// sumMetric adds up every sample of a metric in Prometheus text format.
func sumMetric(sc *bufio.Scanner, name string) float64 {
	total := 0.0
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			total += v
		}
	}
	return total
}
