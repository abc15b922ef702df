// Package temporalx dials Temporal with the service's slog logger bridged
// into the SDK.
package temporalx

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/orderflow/orderflow/shared/config"
)

// Dial connects to Temporal, retrying until ctx ends so a service started
// before the dev server is up waits for it instead of exiting.
func Dial(ctx context.Context, cfg config.Temporal, log *slog.Logger) (client.Client, error) {
	opts := client.Options{
		HostPort:  cfg.Address,
		Namespace: cfg.Namespace,
		Logger:    tlog.NewStructuredLogger(log),
	}
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		log.Warn("temporal not reachable yet", "address", cfg.Address, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("dial temporal at %s: %w", cfg.Address, err)
		case <-time.After(time.Second):
		}
	}
}

// DevServerArgs are the dev server flags used by tests and the run command:
// WAL journaling and eager activities are measured speed-ups (see BENCHMARKS.md; the BRIEF measured 6 → 15 → 22 workflows/s).
func DevServerArgs(port, uiPort, httpPort int, dbFile string, headless bool) []string {
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", fmt.Sprint(port),
		"--http-port", fmt.Sprint(httpPort),
		"--metrics-port", "0",
		"--db-filename", dbFile,
		"--log-level", "warn",
		"--sqlite-pragma", "journal_mode=wal",
		"--sqlite-pragma", "synchronous=normal",
		"--dynamic-config-value", "system.enableActivityEagerExecution=true",
	}
	if headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", fmt.Sprint(uiPort))
	}
	return args
}
