package netx

import (
	"net"
	"strconv"
	"testing"
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
