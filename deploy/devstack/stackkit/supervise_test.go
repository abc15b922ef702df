package stackkit

import (
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/testenv"
)

// TestRestartChildren kills a child with SIGKILL and expects the supervisor
// to start it again under RESTART_CHILDREN, and to report the exit (so the
// run command stops) without it.
func TestRestartChildren(t *testing.T) {
	for _, restart := range []bool{true, false} {
		s := &Supervisor{Restart: restart, RestartDelay: 10 * time.Millisecond, StopAfter: 5 * time.Second,
			Log: testenv.Logger(t), Out: io.Discard}
		p, err := s.Spawn("sleeper", "/bin/sleep", []string{"60"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		first := p.Pid()
		if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if !restart {
			select {
			case err := <-s.Exited():
				t.Logf("without restart: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("a killed child was not reported")
			}
			<-p.done
			continue
		}
		testenv.Eventually(t, 10*time.Second, func() (bool, string) {
			return p.Pid() != first && syscall.Kill(p.Pid(), 0) == nil, "the killed child was not started again"
		})
		select {
		case err := <-s.Exited():
			t.Fatalf("a restarted child was reported as exited: %v", err)
		default:
		}
		second := p.Pid()
		s.Stop()
		<-p.done
		if syscall.Kill(second, 0) == nil {
			t.Fatalf("stop left the restarted child %d running", second)
		}
	}
}
