package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/orderflow/orderflow/deploy/devstack/stackkit"
	"github.com/orderflow/orderflow/shared/pgxx"
)

// services are started in this order and stopped in reverse, so intake (the
// API) stops first and the projector drains last.
var services = []string{"projector", "order-worker", "shipping-worker", "bridge", "api"}

type stack struct {
	cfg       Config
	log       *slog.Logger
	sup       *stackkit.Supervisor
	nats      *natsCluster
	replicas  []replica
	uiRunning bool
}

// replica is one copy of a service and its listeners.
type replica struct {
	service, name     string
	index             int    // 1 for the first copy
	httpAddr, opsAddr string // httpAddr only for the API
}

func newStack(cfg Config, log *slog.Logger) *stack {
	s := &stack{cfg: cfg, log: log,
		sup:  cfg.Supervisor(log, cfg.StopAfter, childEnviron),
		nats: newNATSCluster(filepath.Join(cfg.DataDir, "nats"), cfg.NATS),
	}
	ops := cfg.OpsPort
	for _, svc := range services {
		for i := range cfg.Replicas {
			r := replica{service: svc, name: fmt.Sprintf("%s-%d", svc, i+1), index: i + 1, opsAddr: fmt.Sprintf("127.0.0.1:%d", ops)}
			ops++
			if svc == "api" {
				r.httpAddr = fmt.Sprintf("127.0.0.1:%d", cfg.HTTPPort+i)
			}
			s.replicas = append(s.replicas, r)
		}
	}
	return s
}

func (s *stack) Start(ctx context.Context) error {
	if err := s.checkPortsFree(); err != nil {
		return err
	}
	if s.cfg.Reset {
		if err := s.reset(ctx); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := s.nats.start(ctx, s.sup, filepath.Join(s.cfg.BinDir, "nats-server")); err != nil {
		return err
	}
	s.log.Info("nats cluster up", "url", s.nats.URL())
	// The operator's commands, as a deployment runs them before the services.
	cli := filepath.Join(s.cfg.BinDir, "orderflow")
	if err := s.runOnce(ctx, "streams", cli, []string{"streams", "provision"},
		[]string{"NATS_URL=" + s.nats.URL(), fmt.Sprintf("NATS_STREAM_REPLICAS=%d", s.cfg.NATS.StreamReplicas)}, false); err != nil {
		return err
	}
	if err := s.startTemporal(ctx); err != nil {
		return err
	}
	if err := s.startUI(); err != nil {
		return err
	}
	if err := pgxx.CreateDatabase(ctx, s.cfg.DBURL); err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	if err := s.runOnce(ctx, "migrate", cli, []string{"migrate", "up"}, []string{"DATABASE_URL=" + s.cfg.DBURL}, false); err != nil {
		return err
	}
	// One wave per replica number: the first copy of each service creates
	// its durable consumer, the next copies join it instead of racing to
	// create it on a busy cluster.
	for wave := 1; wave <= s.cfg.Replicas; wave++ {
		var started []replica
		for _, r := range s.replicas {
			if r.index == wave {
				if err := s.startReplica(r); err != nil {
					return err
				}
				started = append(started, r)
			}
		}
		for _, r := range started {
			if err := s.waitReady(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitReady waits until r's /readyz answers 200.
func (s *stack) waitReady(ctx context.Context, r replica) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.opsAddr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready on http://%s/readyz: %v", r.name, r.opsAddr, err)
		}
		select {
		case err := <-s.sup.Exited():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (s *stack) checkPortsFree() error {
	l := s.nats.listeners()
	for k, v := range s.temporalPorts().listeners() {
		l[k] = v
	}
	if s.cfg.Temporal.UI {
		l["TEMPORAL_UI_PORT"] = fmt.Sprintf("127.0.0.1:%d", s.cfg.Temporal.UIPort)
	}
	for _, r := range s.replicas {
		l["OPS_PORT ("+r.name+")"] = r.opsAddr
		if r.httpAddr != "" {
			l["HTTP_PORT ("+r.name+")"] = r.httpAddr
		}
	}
	return stackkit.CheckPortsFree(l)
}

// startReplica runs one copy of a service against the cluster. The
// services do not provision streams here: they would put them back to
// one replica (natsx.EnsureStreams); `orderflow streams provision` did.
func (s *stack) startReplica(r replica) error {
	env := []string{
		"NATS_URL=" + s.nats.URL(),
		"NATS_PROVISION_STREAMS=false",
		"DATABASE_URL=" + s.cfg.DBURL,
		fmt.Sprintf("TEMPORAL_ADDRESS=127.0.0.1:%d", s.cfg.Temporal.Port),
		"TEMPORAL_NAMESPACE=default",
		"OPS_ADDR=" + r.opsAddr,
	}
	if r.httpAddr != "" {
		env = append(env, "HTTP_ADDR="+r.httpAddr)
	}
	env = append(env, s.cfg.FaultEnv()...)
	bin := filepath.Join(s.cfg.BinDir, r.service)
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s missing: run `make build`", bin)
	}
	_, err := s.sup.Spawn(r.name, bin, nil, env)
	return err
}

// runOnce runs a one-shot command (schema tool, operator CLI) to the end,
// its output prefixed with name; a quiet one shows its output only when
// it fails.
func (s *stack) runOnce(ctx context.Context, name, bin string, args, env []string, quiet bool) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(childEnviron(name), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var buf bytes.Buffer
	var w io.Writer = os.Stdout
	if quiet {
		w = &buf
	}
	stackkit.PrefixLines(w, name, out)
	if err := cmd.Wait(); err != nil {
		_, _ = buf.WriteTo(os.Stdout)
		return fmt.Errorf("%s %s: %w", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return nil
}

// reset drops the profile's databases and data directory.
func (s *stack) reset(ctx context.Context) error {
	for _, raw := range []string{s.cfg.Temporal.PersistenceURL, s.cfg.Temporal.VisibilityURL, s.cfg.DBURL} {
		if err := pgxx.DropDatabase(ctx, raw); err != nil {
			return fmt.Errorf("RESET: %w", err)
		}
	}
	if err := os.RemoveAll(s.cfg.DataDir); err != nil {
		return fmt.Errorf("RESET: %w", err)
	}
	s.log.Info("reset: databases dropped, data directory removed", "dir", s.cfg.DataDir)
	return nil
}

// Stop terminates the service replicas (API first), the UI, the Temporal
// server, then the NATS nodes.
func (s *stack) Stop() { s.sup.Stop() }

// Supervisor runs the children.
func (s *stack) Supervisor() *stackkit.Supervisor { return s.sup }

// tail is the last n lines of file, for an error message.
func tail(file string, n int) string {
	b, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
