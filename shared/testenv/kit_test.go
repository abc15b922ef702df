package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
)

// A proxy passes traffic, breaks it when cut, and passes it again on the
// same port when restored.
func TestProxyCutsAndRestores(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	serveLines(ln, "", func(line string) string { return line }) // echo server
	p := StartProxy(t, ln.Addr().String())
	echo := func(c net.Conn, r *bufio.Reader) error {
		if _, err := fmt.Fprintln(c, "ping"); err != nil {
			return err
		}
		got, err := r.ReadString('\n')
		if err == nil && got != "ping\n" {
			err = fmt.Errorf("echo %q", got)
		}
		return err
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if err := echo(c, r); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	addr := p.Addr()
	p.Cut()
	if err := echo(c, r); err == nil {
		t.Fatal("an open connection still works after Cut")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("the port still accepts after Cut")
	}
	p.Restore()
	if p.Addr() != addr {
		t.Fatalf("restored on %s, was %s", p.Addr(), addr)
	}
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := echo(c2, bufio.NewReader(c2)); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
}

// A process reports how it ended, starts again, dies on Kill, and is
// killed when it ignores the stop signal.
func TestProcessStopsKillsAndRestarts(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	p := StartProcess(t, ProcessSpec{Name: "sh", Path: sh, Args: []string{"-c", `echo started; trap 'kill $!; exit 3' INT; sleep 60 & wait`}})
	Eventually(t, 10*time.Second, func() (bool, string) {
		return strings.Contains(p.Output(), "started"), "no output: " + p.Output()
	})
	var exit *exec.ExitError
	if err := p.Stop(syscall.SIGINT, 10*time.Second); !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Stop: %v, want exit status 3", err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
		t.Fatalf("restarted process ended at once: %v", p.Err())
	default:
	}
	p.Kill()
	select {
	case <-p.Done():
	default:
		t.Fatal("Kill returned before the process ended")
	}

	stubborn := StartProcess(t, ProcessSpec{Name: "stubborn", Path: sh, Args: []string{"-c", `trap '' INT; echo ready; sleep 60 & wait`}})
	Eventually(t, 10*time.Second, func() (bool, string) { return strings.Contains(stubborn.Output(), "ready"), "not ready" })
	if err := stubborn.Stop(syscall.SIGINT, 200*time.Millisecond); !errors.Is(err, ErrStopTimeout) {
		t.Fatalf("Stop of a process ignoring SIGINT: %v, want ErrStopTimeout", err)
	}
}

// ReadStream returns what the stream holds, in order, filtered by subject.
func TestReadStreamFilters(t *testing.T) {
	ns := NATS(t)
	js := ns.JetStream(ns.Conn())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, subj := range []string{"orders.commands.a.start", "orders.commands.b.start", "orders.commands.a.cancel"} {
		if _, err := js.Publish(ctx, subj, []byte(subj)); err != nil {
			t.Fatal(err)
		}
	}
	subjects := func(stream string, filter ...string) string {
		var out []string
		for _, m := range ReadStream(t, js, stream, filter...) {
			out = append(out, m.Subject())
		}
		return strings.Join(out, " ")
	}
	if got := subjects(contracts.StreamCommands); got != "orders.commands.a.start orders.commands.b.start orders.commands.a.cancel" {
		t.Fatalf("whole stream: %s", got)
	}
	if got := subjects(contracts.StreamCommands, "orders.commands.a.>"); got != "orders.commands.a.start orders.commands.a.cancel" {
		t.Fatalf("filtered: %s", got)
	}
	if got := subjects(contracts.StreamEvents); got != "" {
		t.Fatalf("empty stream: %s", got)
	}
}
