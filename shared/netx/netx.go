// Package netx owns the network helpers the run commands (deploy/devstack,
// deploy/prodstack), the benchmark and the test kit share: a free loopback
// port, a range of them, and waiting until a TCP address answers.
package netx

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

var (
	handedMu sync.Mutex
	handed   = map[int]bool{}
)

// FreePort asks the kernel for a free TCP port on the loopback interface.
// The port is released before it is returned, so another process could take
// it first; good enough for local tools and tests. It never returns a port
// it returned before in this process: the kernel may hand a just-released
// port out again, and callers asking for several ports at once (a whole
// stack's) need them distinct.
func FreePort() (int, error) {
	handedMu.Lock()
	defer handedMu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handed[p] {
			handed[p] = true
			return p, nil
		}
	}
}

// FreeRange finds n consecutive free loopback ports and returns the first,
// for prodstack, which derives its listeners from a base port. They are
// below Linux's ephemeral range (32768 up), where an outgoing connection
// could take one before its listener starts; Temporal's membership table
// also wants ports that fit a smallint. Like FreePort's, the ports are
// released before they are returned.
func FreeRange(n int) (int, error) {
	for range 200 {
		base := 12000 + rand.IntN(32767-12000-n)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d consecutive free ports", n)
}

// WaitTCP waits until addr accepts connections or timeout passes.
func WaitTCP(addr string, timeout time.Duration) error {
	return WaitTCPOrExit(context.Background(), addr, timeout, nil)
}

// WaitTCPOrExit is WaitTCP for a process a supervisor runs: it also gives
// up when ctx ends, and at once with the error exited delivers (the
// process died, so nothing will listen). A nil exited never delivers.
func WaitTCPOrExit(ctx context.Context, addr string, timeout time.Duration, exited <-chan error) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		select {
		case err := <-exited:
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
