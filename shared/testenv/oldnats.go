package testenv

import (
	"bufio"
	"fmt"
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
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := c.Write([]byte(info)); err != nil {
					return
				}
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(line, "PING") {
						if _, err := c.Write([]byte("PONG\r\n")); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "nats://" + ln.Addr().String()
}
