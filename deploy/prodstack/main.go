// Command prodstack runs orderflow's production profile on one machine, as
// separate processes: a Temporal server (go.temporal.io/server, not the dev
// server) on PostgreSQL for persistence and visibility with several history
// shards, its UI, a 3-node NATS JetStream cluster with R3 streams, and two
// replicas of every service. The Temporal schema is applied by the official
// SQL tool, the streams by `orderflow streams provision` and the
// migrations by `orderflow migrate up`, as an operator would. It stays in
// the foreground and stops everything it started on Ctrl-C.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/orderflow/orderflow/deploy/devstack/stackkit"
	"github.com/orderflow/orderflow/shared/app"
)

// Config lists every variable the production run command reads. Ports are
// off the dev profile's (`make run`), so both can run side by side.
type Config struct {
	stackkit.Settings
	DataDir string `env:"DATA_DIR" envDefault:".data/prod"`
	// DBURL is the orderflow database (orders, events, payments).
	DBURL string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/orderflow_prod?sslmode=disable"`
	// Reset drops the profile's databases and data directory first: the
	// history shard count is fixed once Temporal's database exists.
	Reset    bool           `env:"RESET" envDefault:"false"`
	Temporal TemporalConfig `envPrefix:"TEMPORAL_"`
	NATS     NATSConfig     `envPrefix:"NATS_"`
	// Replicas of every service.
	Replicas int `env:"REPLICAS" envDefault:"2"`
	// HTTPPort is api-1's port; api-N listens on HTTPPort+N-1.
	HTTPPort int `env:"HTTP_PORT" envDefault:"8100"`
	// OpsPort is the first ops listener (/metrics, /livez, /readyz); each
	// service replica takes the next one.
	OpsPort   int           `env:"OPS_PORT" envDefault:"9281"`
	StopAfter time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
}

// TemporalConfig is the Temporal server's. Port is the frontend's gRPC
// port; history, matching and worker take the next three, the frontend's
// HTTP API the fourth, metrics the fifth, and their membership ports are
// the same plus 100.
type TemporalConfig struct {
	Port          int  `env:"PORT" envDefault:"7333"`
	UIPort        int  `env:"UI_PORT" envDefault:"8333"`
	UI            bool `env:"UI" envDefault:"true"`
	HistoryShards int  `env:"HISTORY_SHARDS" envDefault:"4"`
	// PersistenceURL and VisibilityURL are the two PostgreSQL databases,
	// created and migrated by temporal-sql-tool.
	PersistenceURL string `env:"PERSISTENCE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/orderflow_temporal?sslmode=disable"`
	VisibilityURL  string `env:"VISIBILITY_URL" envDefault:"postgres://postgres@127.0.0.1:5432/orderflow_temporal_visibility?sslmode=disable"`
	// DynamicConfig entries are key=JSON: unset means
	// devserver.DefaultDynamicConfig (as `make run`), "none" the server's
	// defaults.
	DynamicConfig []string      `env:"DYNAMIC_CONFIG" envSeparator:","`
	Retention     time.Duration `env:"RETENTION" envDefault:"72h"`
}

// NATSConfig is the cluster's: node N listens for clients on Port+N-1,
// for routes on ClusterPort+N-1, for monitoring on MonitorPort+N-1.
type NATSConfig struct {
	Nodes       int `env:"NODES" envDefault:"3"`
	Port        int `env:"PORT" envDefault:"4322"`
	ClusterPort int `env:"CLUSTER_PORT" envDefault:"6322"`
	MonitorPort int `env:"MONITOR_PORT" envDefault:"8322"`
	// StreamReplicas goes to `orderflow streams provision`, with the other
	// NATS_STREAM_* limits from the environment.
	StreamReplicas int `env:"STREAM_REPLICAS" envDefault:"3"`
}

// Validate rejects settings that cannot work.
func (c *Config) Validate() error {
	errs := []error{c.Settings.Validate()}
	if c.Replicas < 1 {
		errs = append(errs, fmt.Errorf("REPLICAS must be at least 1, not %d", c.Replicas))
	}
	if c.Temporal.HistoryShards < 1 {
		errs = append(errs, fmt.Errorf("TEMPORAL_HISTORY_SHARDS must be at least 1, not %d", c.Temporal.HistoryShards))
	}
	// Temporal's SQL schema keeps membership ports in a smallint.
	if c.Temporal.Port < 1 || c.Temporal.Port+103 > 32767 {
		errs = append(errs, fmt.Errorf("TEMPORAL_PORT must be 1 to 32664 (the server stores its ports, up to TEMPORAL_PORT+103, as smallint), not %d", c.Temporal.Port))
	}
	if c.NATS.Nodes < 1 {
		errs = append(errs, fmt.Errorf("NATS_NODES must be at least 1, not %d", c.NATS.Nodes))
	}
	if c.NATS.StreamReplicas < 1 || c.NATS.StreamReplicas > c.NATS.Nodes {
		errs = append(errs, fmt.Errorf("NATS_STREAM_REPLICAS must be 1 to NATS_NODES (%d), not %d", c.NATS.Nodes, c.NATS.StreamReplicas))
	}
	return errors.Join(errs...)
}

func main() {
	app.Main("prodstack", func(ctx context.Context) error {
		return stackkit.Run(ctx, "prodstack", func(cfg Config, log *slog.Logger) (stackkit.Stack, error) {
			return newStack(cfg, log), nil
		})
	})
}

// Banner prints the endpoints of what runs.
func (s *stack) Banner() {
	var apis, ops []string
	for _, r := range s.replicas {
		if r.httpAddr != "" {
			apis = append(apis, "http://"+r.httpAddr)
		}
		ops = append(ops, fmt.Sprintf("%-17s http://%s/metrics", r.name, r.opsAddr))
	}
	ui := "off (TEMPORAL_UI=false or no .bin/temporal-ui)"
	if s.uiRunning {
		ui = fmt.Sprintf("http://localhost:%d", s.cfg.Temporal.UIPort)
	}
	fmt.Printf(`
orderflow production profile is running (Ctrl-C stops everything)
  API replicas       %s
  API docs           %s/docs
  Temporal gRPC      127.0.0.1:%d (server %s, %d history shards)
  Temporal UI        %s
  Temporal metrics   http://127.0.0.1:%d/metrics
  Temporal log       %s
  Temporal databases %s
                     %s
  NATS cluster       %s (streams R%d)
  NATS monitoring    %s
  PostgreSQL         %s
  data directory     %s
  faults             %s
  metrics            %s

`, strings.Join(apis, "  "), apis[0], s.cfg.Temporal.Port, "go.temporal.io/server", s.cfg.Temporal.HistoryShards, ui,
		s.temporalPorts().metrics, s.temporalLog(), stackkit.Redact(s.cfg.Temporal.PersistenceURL), stackkit.Redact(s.cfg.Temporal.VisibilityURL),
		s.nats.URL(), s.cfg.NATS.StreamReplicas, strings.Join(s.nats.monitorURLs(), "  "),
		stackkit.Redact(s.cfg.DBURL), s.cfg.DataDir, s.cfg.FaultsLabel(), strings.Join(ops, "\n                     "))
}

// childEnviron is this process's environment for a child. The Temporal
// server and UI do not get the OTEL_* variables meant for the services.
func childEnviron(name string) []string {
	if !strings.HasPrefix(name, "temporal") {
		return os.Environ()
	}
	return stackkit.WithoutOTEL(os.Environ())
}
