// Package stackkit is what the run commands (devstack for `make run`,
// prodstack for `make run-prod`) share: children supervised as process
// groups with prefixed output and an ordered stop, and small helpers for
// the infrastructure they set up.
package stackkit

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Supervisor runs children. An unexpected exit is reported on Exited;
// with Restart the child is started again after RestartDelay instead, as a
// supervisor (systemd, Kubernetes) would.
type Supervisor struct {
	Log          *slog.Logger
	Restart      bool
	RestartDelay time.Duration
	// StopAfter is how long a child has between SIGTERM and SIGKILL.
	StopAfter time.Duration
	// Environ is the base environment of child name; os.Environ when nil.
	Environ func(name string) []string
	// Out receives the children's output, each line prefixed with the
	// child's name; os.Stdout when nil.
	Out io.Writer

	mu       sync.Mutex
	procs    []*Proc // stopped in reverse order
	exited   chan error
	stopping atomic.Bool // set by Stop: an exit from now on is expected
}

// Proc is one child. Under Restart its cmd is replaced each time it is
// started again, so cmd is read under mu.
type Proc struct {
	Name string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the child is gone for good
}

// Pid is the current process of the child.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Done is closed when the child is gone for good.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited receives an error for each child that exited unexpectedly.
func (s *Supervisor) Exited() <-chan error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		s.exited = make(chan error, 64)
	}
	return s.exited
}

// Procs are the children in the order they were started.
func (s *Supervisor) Procs() []*Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Proc(nil), s.procs...)
}

// Proc is the child called name, or nil.
func (s *Supervisor) Proc(name string) *Proc {
	for _, p := range s.Procs() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (s *Supervisor) report(err error) {
	s.Exited()
	s.exited <- err
}

// Spawn starts a child in its own process group, so a signal reaches
// whatever it runs, and prefixes its output with its name.
func (s *Supervisor) Spawn(name, bin string, args, env []string) (*Proc, error) {
	p := &Proc{Name: name, done: make(chan struct{})}
	out := s.Out
	if out == nil {
		out = os.Stdout
	}
	environ := s.Environ
	if environ == nil {
		environ = func(string) []string { return os.Environ() }
	}
	start := func() (<-chan error, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(environ(name), env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		p.mu.Lock()
		p.cmd = cmd
		p.mu.Unlock()
		s.Log.Info("started", "process", name, "pid", cmd.Process.Pid)
		exit := make(chan error, 1)
		go func() {
			PrefixLines(out, name, pipe)
			exit <- cmd.Wait()
		}()
		return exit, nil
	}
	exit, err := start()
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			err := <-exit
			if s.stopping.Load() || !s.Restart {
				close(p.done)
				s.report(fmt.Errorf("%s exited unexpectedly: %v", name, err))
				return
			}
			s.Log.Warn("child exited; restarting it", "process", name, "error", err, "after", s.RestartDelay)
			time.Sleep(s.RestartDelay)
			if s.stopping.Load() {
				close(p.done)
				s.report(fmt.Errorf("%s exited unexpectedly: %v", name, err))
				return
			}
			if exit, err = start(); err != nil || s.stopping.Load() {
				if err == nil {
					// Stop came during the delay: stop the new child too.
					_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
					err = <-exit
				}
				close(p.done)
				s.report(fmt.Errorf("%s could not be restarted: %v", name, err))
				return
			}
		}
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// Stop terminates the children newest first, each within StopAfter.
func (s *Supervisor) Stop() {
	s.stopping.Store(true)
	procs := s.Procs()
	for i := len(procs) - 1; i >= 0; i-- {
		s.StopProc(procs[i])
	}
}

// StopProc sends p's process group SIGTERM and SIGKILL after StopAfter.
func (s *Supervisor) StopProc(p *Proc) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(s.StopAfter):
		s.Log.Warn("did not stop in time; killing", "process", p.Name)
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		<-p.done
	}
	s.Log.Info("stopped", "process", p.Name)
}

// PrefixLines copies r to w line by line, each prefixed with name.
func PrefixLines(w io.Writer, name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Fprintf(w, "%-16s| %s\n", name, sc.Text())
	}
}
