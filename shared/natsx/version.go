package natsx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
)

// MinServerVersion is the oldest nats-server orderflow runs on: the
// bridge's command consumer pins one replica through a priority group,
// which servers before 2.11 neither store nor serve.
const MinServerVersion = "2.11.0"

// CheckServerVersion returns an error naming the server's version when nc
// is connected to a nats-server older than MinServerVersion.
func CheckServerVersion(nc *nats.Conn) error {
	have := nc.ConnectedServerVersion()
	if !AtLeast(have, MinServerVersion) {
		return fmt.Errorf("nats-server %s at %s is too old: orderflow needs %s or later (consumer priority groups pin one bridge to ORDER_COMMANDS)",
			have, nc.ConnectedUrlRedacted(), MinServerVersion)
	}
	return nil
}

// AtLeast reports whether version (such as "2.9.10" or "v2.15.2-beta.1")
// is min or later, comparing major, minor and patch. A version that does
// not parse is not at least anything.
func AtLeast(version, min string) bool {
	v, ok := parseVersion(version)
	m, mok := parseVersion(min)
	if !ok || !mok {
		return false
	}
	for i := range v {
		if v[i] != m[i] {
			return v[i] > m[i]
		}
	}
	return true
}

func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}
