package api_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/api/api"
)

// A slowloris client sends its headers a byte at a time to hold a
// connection open; the read timeout cuts it off long before it finishes.
func TestSlowHeadersAreCutOff(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.ReadTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", e.listen())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// 200 bytes at one per 20 ms would take 4 s, far past the timeout.
	req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 160) + "\r\n\r\n"
	sent := 0
	for ; sent < len(req); sent++ {
		if _, err := conn.Write([]byte{req[sent]}); err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
		// A closed connection shows on read once the server gave up.
		_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		one := make([]byte, 1)
		if _, err := conn.Read(one); err != nil && !isTimeout(err) {
			break
		}
	}
	if sent == len(req) {
		t.Fatalf("the server waited for all %d slow bytes", sent)
	}
	t.Logf("server closed the connection after %d of %d bytes", sent, len(req))
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Oversized headers are refused before any handler runs; the limit is
// HTTP_HEADER_LIMIT.
func TestHeadersOverTheLimitAreRefused(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.HeaderLimit = 2048 })
	conn, err := net.Dial("tcp", e.listen())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /orders HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 4096) + "\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an oversized header: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", res.StatusCode)
	}
}
