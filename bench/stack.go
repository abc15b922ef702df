package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/orderflow/orderflow/shared/netx"
)

// tuning overrides the run command's dev server settings; empty keeps them.
type tuning struct {
	sqlitePragmas string
	dynamicConfig string
	telemetry     string // on or off: see telemetryEnv
}

// stack is the whole system started through the real run command
// (.bin/devstack) on private ports, with its own NATS and database, so a
// benchmark measures exactly what `make run` runs.
type stack struct {
	cmd          *exec.Cmd
	exited       chan error
	APIURL       string
	TemporalAddr string
	NATSURL      string
	DBURL        string
	stopTel      func()
	// dropDBs drops the databases the stack made for itself (production
	// profile); nil keeps them.
	dropDBs func()
	// prod: the production profile (.bin/prodstack).
	prod bool
}

// temporalComm is the Temporal server's process name: the CLI's dev server
// or the server built from go.temporal.io/server.
func (s *stack) temporalComm() string {
	if s.prod {
		return "temporal-server"
	}
	return "temporal"
}

// stackOptions are what a scenario changes in the run command's setup.
type stackOptions struct {
	faults bool
	tune   tuning
	dbName string
	// natsURL is a NATS server the bench runs itself (chaos); empty lets
	// the run command embed one.
	natsURL string
	// restartDelay > 0 makes the run command restart a child that died
	// (RESTART_CHILDREN), after that delay.
	restartDelay time.Duration
	// binDir holds the run command and the services (default <repo>/.bin).
	binDir string
}

func startStack(ctx context.Context, root, dataDir, logPath string, o stackOptions) (*stack, error) {
	faults, tune, dbName := o.faults, o.tune, o.dbName
	ports := make([]int, 4)
	for i := range ports {
		p, err := netx.FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	s := &stack{
		APIURL:       fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		TemporalAddr: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		// Nothing listens there, so the run command starts a NATS of its own.
		NATSURL: fmt.Sprintf("nats://127.0.0.1:%d", ports[3]),
		DBURL:   fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", dbName),
	}
	if o.natsURL != "" {
		s.NATSURL = o.natsURL
	}
	faultsEnv := "FAULTS=off"
	if faults {
		faultsEnv = "FAULTS=on"
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	if o.binDir == "" {
		o.binDir = filepath.Join(root, ".bin")
	}
	binDir, err := filepath.Abs(o.binDir)
	if err != nil {
		return nil, err
	}
	o.binDir = binDir
	s.cmd = exec.Command(filepath.Join(o.binDir, "devstack"))
	s.cmd.Dir = root
	s.cmd.Env = append(os.Environ(),
		"DATA_DIR="+dataDir,
		"BIN_DIR="+o.binDir,
		"NATS_URL="+s.NATSURL,
		"DATABASE_URL="+s.DBURL,
		fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", ports[0]),
		fmt.Sprintf("TEMPORAL_PORT=%d", ports[1]),
		fmt.Sprintf("TEMPORAL_UI_PORT=%d", ports[2]),
		"LOG_LEVEL=warn",
		faultsEnv,
	)
	if o.restartDelay > 0 {
		s.cmd.Env = append(s.cmd.Env, "RESTART_CHILDREN=true", "RESTART_DELAY="+o.restartDelay.String())
	}
	if tune.sqlitePragmas != "" {
		s.cmd.Env = append(s.cmd.Env, "TEMPORAL_SQLITE_PRAGMAS="+tune.sqlitePragmas)
	}
	if tune.dynamicConfig != "" {
		s.cmd.Env = append(s.cmd.Env, "TEMPORAL_DYNAMIC_CONFIG="+tune.dynamicConfig)
	}
	telEnv, stopTel, err := telemetryEnv(tune.telemetry)
	if err != nil {
		return nil, err
	}
	s.cmd.Env, s.stopTel = append(s.cmd.Env, telEnv...), stopTel
	if err := s.start(logFile, "devstack (run `make build` first)"); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		select {
		case err := <-s.exited:
			return nil, fmt.Errorf("devstack exited during start (%v); see %s", err, logPath)
		default:
		}
		resp, err := http.Get(s.APIURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("stack not ready after 120s; see %s", logPath)
		}
		select {
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// start starts s.cmd, its output going to logFile, to be killed should the
// benchmark die first, and reports its exit on s.exited; what names it in
// the error.
func (s *stack) start(logFile *os.File, what string) error {
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", what, err)
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait(); logFile.Close() }()
	return nil
}

// PID is the run command's process ID: its children are the services.
func (s *stack) PID() int { return s.cmd.Process.Pid }

// Stop sends the run command Ctrl-C and waits for it to tear everything down.
func (s *stack) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.stopTel()
	if s.dropDBs != nil {
		s.dropDBs()
	}
}
