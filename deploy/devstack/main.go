// Command devstack runs the whole orderflow system on one machine for local
// use: the Temporal dev server, NATS (the one at NATS_URL, or an embedded
// one), PostgreSQL (DATABASE_URL, or a private cluster), the streams, the
// migrations and the five services. It stays in the foreground and stops
// everything it started on Ctrl-C.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/orderflow/orderflow/deploy/devstack/stackkit"
	"github.com/orderflow/orderflow/shared/app"
)

// Config lists every variable the run command reads.
type Config struct {
	stackkit.Settings
	DataDir string `env:"DATA_DIR" envDefault:".data"`
	NATSURL string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	// NATSRoles runs an embedded NATS from NATSConfig (the shipped
	// least-privilege roles) on NATS_URL's port, with a fresh password per
	// role, and gives each service its own role.
	NATSRoles  bool          `env:"NATS_ROLES" envDefault:"false"`
	NATSConfig string        `env:"NATS_SERVER_CONFIG" envDefault:"deploy/nats/orderflow.conf"`
	DBURL      string        `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/orderflow?sslmode=disable"`
	PGPort     int           `env:"PRIVATE_PG_PORT" envDefault:"5433"`
	HTTPAddr   string        `env:"HTTP_ADDR" envDefault:":8000"`
	Temporal   TemporalPorts `envPrefix:"TEMPORAL_"`
	StopAfter  time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	Ops        OpsAddrs
}

// OpsAddrs are the services' ops listeners (/metrics, /livez, /readyz),
// one port each; every service's OPS_ADDR is set from here.
type OpsAddrs struct {
	API            string `env:"API_OPS_ADDR" envDefault:"127.0.0.1:9181"`
	Bridge         string `env:"BRIDGE_OPS_ADDR" envDefault:"127.0.0.1:9182"`
	OrderWorker    string `env:"ORDER_WORKER_OPS_ADDR" envDefault:"127.0.0.1:9183"`
	ShippingWorker string `env:"SHIPPING_WORKER_OPS_ADDR" envDefault:"127.0.0.1:9184"`
	Projector      string `env:"PROJECTOR_OPS_ADDR" envDefault:"127.0.0.1:9185"`
}

// For is the ops address of service name.
func (o OpsAddrs) For(name string) string {
	return map[string]string{
		"api": o.API, "bridge": o.Bridge, "order-worker": o.OrderWorker,
		"shipping-worker": o.ShippingWorker, "projector": o.Projector,
	}[name]
}

// TemporalPorts are the dev server's listeners and storage tuning.
type TemporalPorts struct {
	Port   int `env:"PORT" envDefault:"7233"`
	UIPort int `env:"UI_PORT" envDefault:"8233"`
	// SQLitePragmas tune the dev server's SQLite file: unset means
	// devserver.DefaultSQLitePragmas, "none" SQLite's defaults.
	SQLitePragmas []string `env:"SQLITE_PRAGMAS" envSeparator:","`
	// DynamicConfig entries are key=JSON: unset means
	// devserver.DefaultDynamicConfig, "none" the server's defaults.
	DynamicConfig []string `env:"DYNAMIC_CONFIG" envSeparator:","`
}

// listSetting reads a list variable: unset gives def, "none" nothing.
func listSetting(list, def []string) []string {
	switch {
	case len(list) == 0:
		return def
	case len(list) == 1 && list[0] == "none":
		return nil
	}
	return list
}

func main() {
	app.Main("devstack", func(ctx context.Context) error {
		return stackkit.Run(ctx, "devstack", newStack)
	})
}

func newStack(cfg Config, log *slog.Logger) (stackkit.Stack, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return &stack{cfg: cfg, log: log}, nil
}

// Banner prints the URLs of what runs.
func (s *stack) Banner() {
	api := "http://localhost" + s.cfg.HTTPAddr
	fmt.Printf(`
orderflow is running (Ctrl-C stops everything)
  API              %s
  API docs         %s/docs
  Temporal UI      http://localhost:%d
  Temporal gRPC    127.0.0.1:%d
  NATS             %s
  PostgreSQL       %s
  data directory   %s
  faults           %s
  metrics          %s
  tracing          %s

`, api, api, s.cfg.Temporal.UIPort, s.cfg.Temporal.Port, s.natsURL, stackkit.Redact(s.dbURL), s.cfg.DataDir, s.cfg.FaultsLabel(),
		s.opsLabel(), tracingLabel())
}
