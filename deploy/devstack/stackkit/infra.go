package stackkit

import (
	"fmt"
	"net"
	"net/url"
	"sort"
)

// CheckPortsFree fails fast when a listener about to be started is taken,
// for example by another run command: waiting for the port would otherwise
// find the other process and wire our services to it. listeners maps the
// setting that chooses the address to the address.
func CheckPortsFree(listeners map[string]string) error {
	names := make([]string, 0, len(listeners))
	for name := range listeners {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		l, err := net.Listen("tcp", listeners[name])
		if err != nil {
			return fmt.Errorf("%s (%s) is not free: %w; is another run command running? Stop it or set %s", name, listeners[name], err, name)
		}
		l.Close()
	}
	return nil
}

// Redact hides a URL's password for logs.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	return u.Redacted()
}
