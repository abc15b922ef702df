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
