package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/orderflow/orderflow/shared/contracts"
)

func dlqCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List, inspect and replay dead letters (stream ORDER_DLQ)",
		Long: `Dead letters are messages the bridge (orders.dlq.commands) or the projector
(orders.dlq.events) could never process, kept with the reason in the
Orderflow-Reason header and the subject they were sent to in
Orderflow-Original-Subject. Replay re-publishes the body to that subject
(after you fixed what was wrong) and removes the dead letter.`,
	}
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List dead letters, oldest first",
		Args:  cobra.NoArgs,
		RunE: e.timed(func(ctx context.Context, _ []string) error {
			return e.withDLQ(ctx, func(_ jetstream.JetStream, s jetstream.Stream) error {
				msgs, err := dlqMessages(ctx, s, limit)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
				_, _ = fmt.Fprintln(w, "SEQ\tSTORED\tDLQ SUBJECT\tORIGINAL SUBJECT\tREASON")
				for _, m := range msgs {
					_, _ = fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", m.Sequence, m.Time.UTC().Format("2006-01-02 15:04:05Z"),
						m.Subject, m.Header.Get(contracts.HeaderOriginalSubject), truncate(m.Header.Get(contracts.HeaderReason), 100))
				}
				if err := w.Flush(); err != nil {
					return err
				}
				e.printf("%d dead letter(s)\n", len(msgs))
				return nil
			})
		}),
	}
	list.Flags().IntVar(&limit, "limit", 100, "show at most this many")

	inspect := &cobra.Command{
		Use:   "inspect SEQ",
		Short: "Show one dead letter: its headers and body",
		Args:  cobra.ExactArgs(1),
		RunE: e.timed(func(ctx context.Context, args []string) error {
			seq, err := parseSeq(args[0])
			if err != nil {
				return err
			}
			return e.withDLQ(ctx, func(_ jetstream.JetStream, s jetstream.Stream) error {
				m, err := s.GetMsg(ctx, seq)
				if err != nil {
					return fmt.Errorf("dead letter %d: %w", seq, err)
				}
				e.printf("seq:      %d\nstored:   %s\nsubject:  %s\n", m.Sequence, m.Time.UTC().Format("2006-01-02 15:04:05.000Z"), m.Subject)
				keys := make([]string, 0, len(m.Header))
				for k := range m.Header {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				e.printf("headers:\n")
				for _, k := range keys {
					e.printf("  %s: %s\n", k, strings.Join(m.Header[k], ", "))
				}
				e.printf("body (%d bytes):\n%s\n", len(m.Data), indent(string(m.Data), "  "))
				return nil
			})
		}),
	}

	var all, dryRun, keep bool
	replay := &cobra.Command{
		Use:   "replay [SEQ...]",
		Short: "Re-publish dead letters to their original subjects and remove them",
		Long: `Re-publishes each dead letter's body to its Orderflow-Original-Subject (only
orders.commands.* and orders.events.* are accepted) with the message ID
replay-dlq-<seq>, so replaying twice within the broker's window is harmless,
then deletes it from ORDER_DLQ (unless --keep). --dry-run only prints what
would be done.`,
		RunE: e.timed(func(ctx context.Context, args []string) error {
			if all == (len(args) > 0) {
				return errors.New("give dead-letter sequence numbers or --all, not both or neither")
			}
			return e.withDLQ(ctx, func(js jetstream.JetStream, s jetstream.Stream) error {
				var msgs []*jetstream.RawStreamMsg
				if all {
					var err error
					if msgs, err = dlqMessages(ctx, s, 0); err != nil {
						return err
					}
				}
				for _, a := range args {
					seq, err := parseSeq(a)
					if err != nil {
						return err
					}
					m, err := s.GetMsg(ctx, seq)
					if err != nil {
						return fmt.Errorf("dead letter %d: %w", seq, err)
					}
					msgs = append(msgs, m)
				}
				for _, m := range msgs {
					if err := e.replayOne(ctx, js, s, m, dryRun, keep); err != nil {
						return err
					}
				}
				verb := "replayed"
				if dryRun {
					verb = "would replay (dry run, nothing published)"
				}
				e.printf("%s %d dead letter(s)\n", verb, len(msgs))
				return nil
			})
		}),
	}
	replay.Flags().BoolVar(&all, "all", false, "replay every dead letter")
	replay.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be re-published; change nothing")
	replay.Flags().BoolVar(&keep, "keep", false, "keep the dead letters after re-publishing")

	cmd.AddCommand(list, inspect, replay)
	return cmd
}

func (e *env) replayOne(ctx context.Context, js jetstream.JetStream, s jetstream.Stream, m *jetstream.RawStreamMsg, dryRun, keep bool) error {
	target := m.Header.Get(contracts.HeaderOriginalSubject)
	if !strings.HasPrefix(target, contracts.CommandsRoot+".") && !strings.HasPrefix(target, contracts.EventsRoot+".") {
		return fmt.Errorf("dead letter %d: original subject %q is not a command or event subject; not replayed", m.Sequence, target)
	}
	msgID := "replay-dlq-" + strconv.FormatUint(m.Sequence, 10)
	if dryRun {
		e.printf("dlq %d -> %s (%d bytes, Nats-Msg-Id %s)\n", m.Sequence, target, len(m.Data), msgID)
		return nil
	}
	out := nats.NewMsg(target)
	out.Data = m.Data
	out.Header.Set(contracts.HeaderMsgID, msgID)
	out.Header.Set(contracts.HeaderContentType, "application/json")
	ack, err := js.PublishMsg(ctx, out)
	if err != nil {
		return fmt.Errorf("replay dead letter %d to %s: %w", m.Sequence, target, err)
	}
	e.printf("dlq %d -> %s (stream %s seq %d)\n", m.Sequence, target, ack.Stream, ack.Sequence)
	if keep {
		return nil
	}
	if err := s.DeleteMsg(ctx, m.Sequence); err != nil {
		return fmt.Errorf("dead letter %d replayed but not removed: %w", m.Sequence, err)
	}
	return nil
}

// withDLQ runs f on the dead-letter stream.
func (e *env) withDLQ(ctx context.Context, f func(jetstream.JetStream, jetstream.Stream) error) error {
	return e.withJetStream(func(js jetstream.JetStream) error {
		s, err := js.Stream(ctx, contracts.StreamDLQ)
		if err != nil {
			return fmt.Errorf("stream %s: %w", contracts.StreamDLQ, err)
		}
		return f(js, s)
	})
}

// dlqMessages reads the stream's messages in order; limit 0 means all.
func dlqMessages(ctx context.Context, s jetstream.Stream, limit int) ([]*jetstream.RawStreamMsg, error) {
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream info: %w", err)
	}
	var out []*jetstream.RawStreamMsg
	if info.State.Msgs == 0 {
		return nil, nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && (limit == 0 || len(out) < limit); seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted after a replay
		}
		if err != nil {
			return nil, fmt.Errorf("read dead letter %d: %w", seq, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseSeq(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a dead-letter sequence number (see `orderflow dlq list`)", s)
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
