// Package netx owns the two network helpers the run command
// (deploy/devstack), the benchmark and the test kit share: a free loopback
// port and waiting until a TCP address answers.
package netx

import (
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

// WaitTCP waits until addr accepts connections or timeout passes.
func WaitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
