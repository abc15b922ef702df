package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
)

// NATSAnnouncing listens on a loopback port and speaks just enough of the
// NATS client protocol (INFO, then PONG to each PING) to accept a client
// while announcing version as its nats-server version. It stands in for a
// server too old to embed, to test what a client does on seeing one; it
// serves no subjects. It returns the nats:// URL and stops with the test.
func NATSAnnouncing(t testing.TB, version string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	info := fmt.Sprintf(`INFO {"server_id":"old","server_name":"old","version":%q,"proto":1,"go":"go1","host":"127.0.0.1","port":%d,"headers":true,"max_payload":1048576,"jetstream":true}`+"\r\n",
		version, ln.Addr().(*net.TCPAddr).Port)
	serveLines(ln, info, func(line string) string {
		if strings.HasPrefix(line, "PING") {
			return "PONG\r\n"
		}
		return ""
	})
	return "nats://" + ln.Addr().String()
}

// serveLines serves each connection ln accepts, until ln closes: greeting
// first, then reply(line) for every line the client sends (nothing for "").
func serveLines(ln net.Listener, greeting string, reply func(line string) string) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := io.WriteString(c, greeting); err != nil {
					return
				}
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if out := reply(line); out != "" {
						if _, err := io.WriteString(c, out); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
}
