package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/shared/netx"
	"github.com/orderflow/orderflow/shared/temporalx"
)

// TemporalServer is a Temporal dev server process started by a test.
type TemporalServer struct {
	Address string
	bin     string
	dbFile  string
	port    int
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
}

var (
	sharedOnce   sync.Once
	sharedServer *TemporalServer
	sharedErr    error
)

// Temporal returns the frontend address of a Temporal dev server: the one
// at TEMPORAL_ADDRESS when set (the test command starts one for the whole
// run), otherwise one started once for this test binary and stopped by Main.
// Tests isolate themselves with their own task queues and workflow IDs.
func Temporal(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv("TEMPORAL_ADDRESS"); addr != "" {
		if err := waitTemporal(addr, 20*time.Second, nil); err != nil {
			t.Fatalf("testenv: TEMPORAL_ADDRESS=%s does not answer: %v", addr, err)
		}
		return addr
	}
	sharedOnce.Do(func() {
		bin, err := temporalBinary()
		if err != nil {
			sharedErr = err
			return
		}
		dir, err := os.MkdirTemp("", "orderflow-temporal-")
		if err != nil {
			sharedErr = err
			return
		}
		sharedServer = &TemporalServer{bin: bin, dbFile: filepath.Join(dir, "temporal.db"), logPath: filepath.Join(dir, "temporal.log")}
		sharedErr = sharedServer.start()
	})
	if sharedErr != nil {
		t.Fatalf("testenv: Temporal dev server: %v", sharedErr)
	}
	return sharedServer.Address
}

// StartTemporal starts a dev server private to t, backed by a SQLite file,
// so the test can Stop it and Start it again with its workflows intact.
func StartTemporal(t testing.TB) *TemporalServer {
	t.Helper()
	bin, err := temporalBinary()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	dir := t.TempDir()
	s := &TemporalServer{bin: bin, dbFile: filepath.Join(dir, "temporal.db"), logPath: filepath.Join(dir, "temporal.log")}
	if err := s.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Main runs the package's tests and stops the shared dev server afterwards:
// call it from TestMain as os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if sharedServer != nil {
		sharedServer.Stop()
	}
	return code
}

// Start restarts a stopped server on the same port and database file.
func (s *TemporalServer) Start() error { return s.start() }

// start launches the server, retrying when it exits at once: the dev server
// picks free ports for its internal services itself, so two servers started
// together by parallel test binaries can take each other's ports. A first
// start then tries new ports; a restart keeps its port (clients hold it).
func (s *TemporalServer) start() error {
	choosePort := s.port == 0
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if choosePort {
			if s.port, err = netx.FreePort(); err != nil {
				return err
			}
		}
		if err = s.startOnce(); !errors.Is(err, errExitedEarly) {
			return err
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
	return err
}

// errExitedEarly marks a dev server that died before it answered.
var errExitedEarly = errors.New("dev server exited before it answered")

func (s *TemporalServer) startOnce() error {
	uiPort, err := netx.FreePort()
	if err != nil {
		return err
	}
	httpPort, err := netx.FreePort()
	if err != nil {
		return err
	}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.Address = fmt.Sprintf("127.0.0.1:%d", s.port)
	s.cmd = exec.Command(s.bin, temporalx.DevServer{
		Port: s.port, UIPort: uiPort, HTTPPort: httpPort, DBFile: s.dbFile,
		Headless: true, SQLitePragmas: temporalx.DefaultSQLitePragmas, DynamicConfig: temporalx.DefaultDynamicConfig,
	}.Args()...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); logFile.Close(); close(s.done) }()
	if err := waitTemporal(s.Address, 60*time.Second, s.done); err != nil {
		s.Stop()
		return fmt.Errorf("dev server at %s did not come up (log: %s): %w", s.Address, s.logPath, err)
	}
	return nil
}

// Stop terminates the server and waits for it to exit.
func (s *TemporalServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	s.cmd = nil
}

// Kill ends the server with SIGKILL, as a crash would: no shutdown, the
// SQLite file as the last commit left it. Start brings it back.
func (s *TemporalServer) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// temporalBinary finds the dev server: TEMPORAL_BIN, the repository's
// .bin/temporal (built by `make tools`), or temporal on PATH.
func temporalBinary() (string, error) {
	if b := os.Getenv("TEMPORAL_BIN"); b != "" {
		return b, nil
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidate := filepath.Join(dir, ".bin", "temporal")
			if _, err := os.Stat(candidate); err == nil {
				return candidate, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no temporal binary: run `make tools` (builds .bin/temporal) or set TEMPORAL_BIN or TEMPORAL_ADDRESS")
}

// waitTemporal dials addr until it answers, timeout passes or exited (the
// server process's end; nil when the server is not ours) is closed.
func waitTemporal(addr string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errExitedEarly
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		c, err := client.DialContext(ctx, client.Options{HostPort: addr, Logger: quietLogger{}})
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return last
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
