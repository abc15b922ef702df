// Package cli owns the orderflow operator commands, with cobra: migrate
// (migrate.go), streams (streams.go), dlq (dlq.go), order (order.go) and
// projection (projection.go). Each command connects to what it needs (NATS
// with the services' credentials and TLS, PostgreSQL) from one Config
// loaded from the environment, with flags that override it (root.go).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/pgxx"
)

// Config is the CLI's configuration: the services' shared variables plus
// where the Temporal UI is, for links.
type Config struct {
	config.Log
	config.NATS
	config.Postgres
	config.Temporal
	Streams       config.Streams
	TemporalUIURL string        `env:"TEMPORAL_UI_URL" envDefault:"http://localhost:8233"`
	Timeout       time.Duration `env:"ORDERFLOW_TIMEOUT" envDefault:"30s"`
}

// Validate rejects settings no command can work with.
func (c Config) Validate() error {
	if c.Timeout <= 0 {
		return errors.New("ORDERFLOW_TIMEOUT must be positive")
	}
	return nil
}

// env is what every command runs with.
type env struct {
	cfg      Config
	out, err io.Writer
	log      *slog.Logger
}

// Execute runs the command line args, writing results to out and
// diagnostics to errOut.
func Execute(ctx context.Context, args []string, out, errOut io.Writer) error {
	root := newRoot(out, errOut)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func newRoot(out, errOut io.Writer) *cobra.Command {
	e := &env{out: out, err: errOut}
	var natsURL, dbURL, temporalUI string
	root := &cobra.Command{
		Use:   "orderflow",
		Short: "Operate orderflow: migrations, streams, dead letters, orders, the projection",
		Long: `orderflow is the operator's tool for the order pipeline.

Connections come from the same environment variables the services read
(NATS_URL, DATABASE_URL, TEMPORAL_NAMESPACE, TEMPORAL_UI_URL); the flags below
override them.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load[Config]()
			if err != nil {
				return err
			}
			if natsURL != "" {
				cfg.NATS.URL = natsURL
			}
			if dbURL != "" {
				cfg.Postgres.URL = dbURL
			}
			if temporalUI != "" {
				cfg.TemporalUIURL = temporalUI
			}
			e.cfg = cfg
			e.log = slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
			return nil
		},
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.PersistentFlags().StringVar(&natsURL, "nats-url", "", "NATS server (default $NATS_URL or nats://127.0.0.1:4222)")
	root.PersistentFlags().StringVar(&dbURL, "database-url", "", "PostgreSQL (default $DATABASE_URL)")
	root.PersistentFlags().StringVar(&temporalUI, "temporal-ui", "", "Temporal UI base URL for links (default $TEMPORAL_UI_URL or http://localhost:8233)")
	root.AddCommand(migrateCmd(e), streamsCmd(e), dlqCmd(e), orderCmd(e), projectionCmd(e))
	return root
}

// timed is a RunE whose work runs within the command timeout
// (ORDERFLOW_TIMEOUT).
func (e *env) timed(run func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx, cancel := context.WithTimeout(cmd.Context(), e.cfg.Timeout)
		defer cancel()
		return run(ctx, args)
	}
}

// group is a command that only holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short}
	cmd.AddCommand(subs...)
	return cmd
}

// connectNATS dials NATS as the services do (credentials, TLS, inbox
// prefix: natsx.Options) but without creating streams, as verify must see
// them as they are, and without reconnecting: a command fails fast.
func (e *env) connectNATS() (*nats.Conn, error) {
	opts, err := natsx.Options(e.cfg.NATS)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(e.cfg.NATS.URL, append(opts, nats.Name("orderflow-cli"), nats.Timeout(5*time.Second))...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats at %s: %w", e.cfg.NATS.URL, err)
	}
	return nc, nil
}

// withNATS runs f on a connection of its own.
func (e *env) withNATS(f func(nc *nats.Conn) error) error {
	nc, err := e.connectNATS()
	if err != nil {
		return err
	}
	defer nc.Close()
	return f(nc)
}

// withJetStream runs f on a JetStream context of its own connection.
func (e *env) withJetStream(f func(js jetstream.JetStream) error) error {
	return e.withNATS(func(nc *nats.Conn) error {
		js, err := jetstream.New(nc)
		if err != nil {
			return fmt.Errorf("jetstream: %w", err)
		}
		return f(js)
	})
}

// withClient runs f with the Go client on a connection of its own.
func (e *env) withClient(f func(c *client.Client) error) error {
	return e.withNATS(func(nc *nats.Conn) error {
		c, err := client.New(nc)
		if err != nil {
			return err
		}
		return f(c)
	})
}

func (e *env) pool(ctx context.Context) (*pgxpool.Pool, error) {
	cfg := e.cfg.Postgres
	cfg.MaxConns = 2
	return pgxx.Open(ctx, cfg)
}

// printf writes to the command's output; a failed write to a terminal is
// not worth an error.
func (e *env) printf(format string, a ...any) { _, _ = fmt.Fprintf(e.out, format, a...) }

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
