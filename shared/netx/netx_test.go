package netx

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"
)

// TestFreeRange: every port of the range is free and below the ephemeral
// range.
func TestFreeRange(t *testing.T) {
	base, err := FreeRange(5)
	if err != nil {
		t.Fatal(err)
	}
	if base < 12000 || base+5 > 32767 {
		t.Fatalf("range %d..%d outside 12000..32767", base, base+4)
	}
	for p := base; p < base+5; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d not free: %v", p, err)
		}
		l.Close()
	}
}

// TestWaitTCPOrExit: an address that answers is seen; one that never will
// gives up at once with the error of the process that exited.
func TestWaitTCPOrExit(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := WaitTCP(l.Addr().String(), time.Second); err != nil {
		t.Fatalf("listening address: %v", err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	exited <- errors.New("child died")
	start := time.Now()
	err = WaitTCPOrExit(context.Background(), "127.0.0.1:"+strconv.Itoa(port), time.Minute, exited)
	if err == nil || err.Error() != "child died" || time.Since(start) > 5*time.Second {
		t.Fatalf("after the child exited: %v after %s, want its error at once", err, time.Since(start))
	}
}
