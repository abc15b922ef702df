package testenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/orderflow/orderflow/shared/devserver"
	"github.com/orderflow/orderflow/shared/netx"
)

// TemporalServer is a Temporal dev server started by a test: a container
// (the default) or, with ORDERFLOW_TEST_INFRA=local, a process of the
// temporal binary. Both run the same flags, devserver.DevServer's.
type TemporalServer struct {
	Address string
	bin     string
	dbFile  string
	port    int
	proc    *Process // local mode
	logPath string
	ctr     testcontainers.Container
	t       testing.TB // the test that owns a private server (StartTemporal)
}

// devServer is the one definition of the dev server tests run, for the
// binary and the container alike: add a flag here and both get it.
func devServer(port, httpPort int, dbFile string) devserver.DevServer {
	return devserver.DevServer{
		Port: port, HTTPPort: httpPort, DBFile: dbFile,
		Headless: true, SQLitePragmas: devserver.DefaultSQLitePragmas, DynamicConfig: devserver.DefaultDynamicConfig,
	}
}

// containerDBFile is where the dev server's SQLite file lives in its
// container; the container's file system outlives a stop, so a restarted
// server keeps its workflows.
const containerDBFile = "/data/temporal.db"

// newTemporalServer prepares a server whose files go under dir.
func newTemporalServer(dir string) (*TemporalServer, error) {
	if useContainers() {
		return &TemporalServer{dbFile: containerDBFile}, nil
	}
	bin, err := temporalBinary()
	if err != nil {
		return nil, err
	}
	return &TemporalServer{bin: bin, dbFile: filepath.Join(dir, "temporal.db"), logPath: filepath.Join(dir, "temporal.log")}, nil
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
		dir, err := os.MkdirTemp("", "orderflow-temporal-")
		if err != nil {
			sharedErr = err
			return
		}
		if sharedServer, sharedErr = newTemporalServer(dir); sharedErr == nil {
			sharedErr = sharedServer.start()
		}
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
	s, err := newTemporalServer(t.TempDir())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	s.t = t
	if err := s.start(); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(s.remove)
	return s
}

// Main runs the package's tests and removes the shared dev server and
// PostgreSQL afterwards: call it from TestMain as os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if sharedServer != nil {
		sharedServer.remove()
	}
	if pgContainer != nil {
		terminate(nil, pgContainer)
	}
	return code
}

// Start restarts a stopped server on the same port and database file.
func (s *TemporalServer) Start() error {
	if s.ctr != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return s.ctr.Start(ctx)
	}
	return s.start()
}

// remove stops the server for good (and deletes its container).
func (s *TemporalServer) remove() {
	if s.ctr != nil {
		terminate(nil, s.ctr)
		s.ctr = nil
		return
	}
	s.Stop()
}

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
	httpPort, err := netx.FreePort()
	if err != nil {
		return err
	}
	s.Address = fmt.Sprintf("127.0.0.1:%d", s.port)
	args := devServer(s.port, httpPort, s.dbFile).Args()
	if useContainers() {
		s.ctr, err = startContainer(context.Background(), containerSpec{
			what:  "Temporal dev server",
			image: temporalImage(),
			cmd:   args,
			// The image's health check asks this address.
			env:   map[string]string{"TEMPORAL_ADDRESS": s.Address},
			ready: func(ctx context.Context) error { return dialTemporal(ctx, s.Address) },
		})
		return err
	}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.proc, err = startProcess(ProcessSpec{Name: "temporal dev server", Path: s.bin, Args: args, Output: logFile})
	if err != nil {
		logFile.Close()
		return err
	}
	exited := s.proc.Done()
	go func() { <-exited; logFile.Close() }()
	if err := waitTemporal(s.Address, 60*time.Second, exited); err != nil {
		s.Stop()
		return fmt.Errorf("dev server at %s did not come up (log: %s): %w", s.Address, s.logPath, err)
	}
	return nil
}

// Stop terminates the server and waits for it to exit; Start brings it
// back with its workflows.
func (s *TemporalServer) Stop() {
	if s.ctr != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		timeout := 10 * time.Second
		_ = s.ctr.Stop(ctx, &timeout)
		return
	}
	if s.proc != nil {
		_ = s.proc.Stop(syscall.SIGTERM, 10*time.Second)
	}
}

// Kill ends the server with SIGKILL, as a crash would: no shutdown, the
// SQLite file as the last commit left it. Start brings it back.
func (s *TemporalServer) Kill() {
	if s.ctr != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := killContainer(ctx, s.ctr); err != nil {
			s.t.Fatalf("testenv: dev server: %v", err)
		}
		return
	}
	if s.proc != nil {
		s.proc.Kill()
	}
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
		err := dialTemporal(ctx, addr)
		cancel()
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return last
}

// dialTemporal connects to the frontend at addr once (the SDK's dial checks
// the server's health). The SDK's logs are dropped: waitTemporal reports
// the last error.
func dialTemporal(ctx context.Context, addr string) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return err
	}
	c.Close()
	return nil
}
