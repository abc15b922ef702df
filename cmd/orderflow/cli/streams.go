package cli

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/orderflow/orderflow/shared/natsx"
)

func streamsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "streams", Short: "Create or check the JetStream streams of the contract"}
	cmd.AddCommand(&cobra.Command{
		Use:   "provision",
		Short: "Create every stream, or update it to the contract's settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := e.timeout(cmd.Context())
			defer cancel()
			nc, js, err := e.connectNATS()
			if err != nil {
				return err
			}
			defer nc.Close()
			if err := natsx.EnsureStreams(ctx, js); err != nil {
				return err
			}
			for _, c := range natsx.StreamConfigs() {
				e.printf("%-15s provisioned (%v)\n", c.Name, c.Subjects)
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "verify",
		Short: "Check every stream exists with the contract's settings; exit 1 if not",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := e.timeout(cmd.Context())
			defer cancel()
			nc, js, err := e.connectNATS()
			if err != nil {
				return err
			}
			defer nc.Close()
			bad := 0
			for _, want := range natsx.StreamConfigs() {
				s, err := js.Stream(ctx, want.Name)
				if errors.Is(err, jetstream.ErrStreamNotFound) {
					e.printf("%-15s MISSING\n", want.Name)
					bad++
					continue
				}
				if err != nil {
					return fmt.Errorf("stream %s: %w", want.Name, err)
				}
				info := s.CachedInfo()
				diffs := streamDiffs(want, info.Config)
				if len(diffs) == 0 {
					e.printf("%-15s ok (%d messages)\n", want.Name, info.State.Msgs)
					continue
				}
				bad++
				for _, d := range diffs {
					e.printf("%-15s DIFFERS %s\n", want.Name, d)
				}
			}
			if bad > 0 {
				return fmt.Errorf("%d stream(s) do not match the contract: run `orderflow streams provision`", bad)
			}
			return nil
		},
	})
	return cmd
}

// streamDiffs lists the settings of got that differ from the contract.
func streamDiffs(want, got jetstream.StreamConfig) []string {
	var d []string
	add := func(field string, w, g any) { d = append(d, fmt.Sprintf("%s: want %v, have %v", field, w, g)) }
	if !slices.Equal(want.Subjects, got.Subjects) {
		add("subjects", want.Subjects, got.Subjects)
	}
	if want.Storage != got.Storage {
		add("storage", want.Storage, got.Storage)
	}
	if want.Retention != got.Retention {
		add("retention", want.Retention, got.Retention)
	}
	if want.MaxAge != got.MaxAge {
		add("max age", want.MaxAge, got.MaxAge)
	}
	// Zero means the server's default window.
	if want.Duplicates != 0 && want.Duplicates != got.Duplicates {
		add("duplicate window", want.Duplicates, got.Duplicates)
	}
	return d
}
