package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ProcessSpec is a program a test runs as a child process.
type ProcessSpec struct {
	Name string // for messages
	Path string
	Args []string
	Dir  string
	Env  []string // the whole environment; nil: this process's
	// Output receives stdout and stderr; nil keeps them in memory, for
	// Process.Output and the log of a failed test.
	Output io.Writer
}

// Process is a running (or stopped) child process. It is in a process group
// of its own, so a Ctrl-C meant for the tests does not reach it, and it gets
// SIGKILL if the test binary dies first.
type Process struct {
	spec ProcessSpec
	out  *Buffer // when spec.Output is nil

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the last run's exit, once done is closed
}

// ErrStopTimeout is returned by Stop when the process had to be killed.
var ErrStopTimeout = errors.New("did not exit in time, killed")

// StartProcess starts spec. When the test ends a process still running gets
// SIGINT (SIGKILL after 30 s), and a failed test logs the end of its output.
func StartProcess(t testing.TB, spec ProcessSpec) *Process {
	t.Helper()
	p, err := startProcess(spec)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		_ = p.Stop(syscall.SIGINT, 30*time.Second)
		if t.Failed() && p.out != nil {
			t.Logf("%s output (end):\n%s", spec.Name, tail(p.Output(), 16000))
		}
	})
	return p
}

func startProcess(spec ProcessSpec) (*Process, error) {
	p := &Process{spec: spec}
	if spec.Output == nil {
		p.out = &Buffer{}
		p.spec.Output = p.out
	}
	return p, p.Start()
}

// Start runs the program again after Stop or Kill; it does nothing while
// the program runs.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Dir, cmd.Env = p.spec.Dir, p.spec.Env
	cmd.Stdout, cmd.Stderr = p.spec.Output, p.spec.Output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.spec.Name, err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// Done is closed when the current run ends.
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Err is how the last run ended (nil: exit status 0), once Done is closed.
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop sends sig to the process and waits for it to exit; after timeout it
// kills the process group and returns ErrStopTimeout. Otherwise it returns
// how the process ended (nil: exit status 0). A stopped process stays so.
func (p *Process) Stop(sig os.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	var err error
	select {
	case <-done:
		err = p.Err()
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		err = fmt.Errorf("%s: %w", p.spec.Name, ErrStopTimeout)
	}
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
	return err
}

// Kill ends the process group with SIGKILL, as a crash would, and waits
// until it is gone.
func (p *Process) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
	p.mu.Lock()
	p.cmd = nil
	p.mu.Unlock()
}

// Output is what the process wrote so far (empty when ProcessSpec.Output
// took it).
func (p *Process) Output() string {
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// Buffer collects output written from other goroutines (a process's, a
// logger's) while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(b)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
