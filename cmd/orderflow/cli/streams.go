package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/orderflow/orderflow/shared/natsx"
)

func streamsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "streams",
		Short: "Create or check the JetStream streams of the contract",
		Long: `Streams are the contract's (subjects, retention) with the replicas and
limits of NATS_STREAM_REPLICAS, NATS_STREAM_MAX_AGE, NATS_STREAM_MAX_BYTES and
NATS_STREAM_DUPLICATE_WINDOW (per stream: ORDER_EVENTS:720h,ORDER_DLQ:0s).`,
	}
	var wait bool
	provision := &cobra.Command{
		Use:   "provision",
		Short: "Create every stream, or update it to the configured settings (replicas, limits)",
		Args:  cobra.NoArgs,
		RunE: e.timed(func(ctx context.Context, _ []string) error {
			return e.withStreams(func(js jetstream.JetStream, cfgs []jetstream.StreamConfig) error {
				if err := natsx.ProvisionStreams(ctx, js, cfgs); err != nil {
					return err
				}
				if wait {
					if _, err := natsx.WaitStreamsCurrent(ctx, js, cfgs); err != nil {
						return err
					}
				}
				for _, c := range cfgs {
					e.printf("%-15s provisioned (%v, %s)\n", c.Name, c.Subjects, limits(c))
				}
				return nil
			})
		}),
	}
	provision.Flags().BoolVar(&wait, "wait", true, "wait until every stream has a leader and all replicas current")
	cmd.AddCommand(provision, &cobra.Command{
		Use:   "verify",
		Short: "Check every stream exists with the configured settings and all replicas current; exit 1 if not",
		Args:  cobra.NoArgs,
		RunE: e.timed(func(ctx context.Context, _ []string) error {
			return e.withStreams(func(js jetstream.JetStream, cfgs []jetstream.StreamConfig) error {
				return e.reportStreams(ctx, js, cfgs)
			})
		}),
	})
	return cmd
}

// withStreams runs f with the streams as configured (the contract's, with
// the NATS_STREAM_* settings) and a JetStream context.
func (e *env) withStreams(f func(js jetstream.JetStream, cfgs []jetstream.StreamConfig) error) error {
	cfgs, err := natsx.StreamConfigsWith(e.cfg.Streams)
	if err != nil {
		return err
	}
	return e.withJetStream(func(js jetstream.JetStream) error { return f(js, cfgs) })
}

func (e *env) reportStreams(ctx context.Context, js jetstream.JetStream, cfgs []jetstream.StreamConfig) error {
	checks, err := natsx.VerifyStreams(ctx, js, cfgs)
	if err != nil {
		return err
	}
	bad := 0
	for _, c := range checks {
		switch {
		case c.Missing:
			e.printf("%-15s MISSING\n", c.Name)
		case c.OK():
			where := ""
			if c.Leader != "" {
				where = ", leader " + c.Leader
			}
			e.printf("%-15s ok (%d messages, R%d%s)\n", c.Name, c.Msgs, c.Replicas, where)
		}
		for _, d := range c.Diffs {
			e.printf("%-15s DIFFERS %s\n", c.Name, d)
		}
		for _, u := range c.Unhealthy {
			e.printf("%-15s UNHEALTHY %s\n", c.Name, u)
		}
		if !c.OK() {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d stream(s) do not match the configuration: run `orderflow streams provision`", bad)
	}
	return nil
}

// limits describes the settings an operator chooses, for the provision log.
func limits(c jetstream.StreamConfig) string {
	parts := []string{fmt.Sprintf("R%d", max(c.Replicas, 1))}
	if c.MaxAge > 0 {
		parts = append(parts, "max age "+c.MaxAge.String())
	}
	if c.MaxBytes > 0 {
		parts = append(parts, fmt.Sprintf("max bytes %d", c.MaxBytes))
	}
	if c.Duplicates > 0 {
		parts = append(parts, "dedup "+c.Duplicates.String())
	}
	return strings.Join(parts, ", ")
}
