package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orderflow/orderflow/client"
	"github.com/orderflow/orderflow/shared/contracts"
)

func orderCmd(e *env) *cobra.Command {
	inspect := &cobra.Command{
		Use:   "inspect ORDER_ID",
		Short: "Live status (from the workflow), the event history (from PostgreSQL) and a Temporal UI link",
		Args:  cobra.ExactArgs(1),
		RunE:  e.timed(func(ctx context.Context, args []string) error { return e.inspectOrder(ctx, args[0]) }),
	}
	var wait time.Duration
	var reason string
	signal := func(kind client.CommandKind, short string) *cobra.Command {
		c := &cobra.Command{
			Use:   string(kind) + " ORDER_ID",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return e.sendSignal(cmd.Context(), kind, args[0], reason, wait)
			},
		}
		c.Flags().DurationVar(&wait, "wait", 10*time.Second, "wait this long for the bridge's outcome (0: return once stored)")
		return c
	}
	approve := signal(client.KindApprove, "Approve an order held for manual review")
	cancel := signal(client.KindCancel, "Cancel an order (until its carrier is dispatched; a charge is refunded)")
	cancel.Flags().StringVar(&reason, "reason", "cancelled by an operator", "why, recorded with the order")
	return group("order", "Inspect an order, approve or cancel it", inspect, approve, cancel)
}

// sendSignal publishes the command exactly as the API does (same subject,
// body and Nats-Msg-Id contract) through the Go client.
func (e *env) sendSignal(ctx context.Context, kind client.CommandKind, orderID, reason string, wait time.Duration) error {
	if err := contracts.ValidateOrderID(orderID); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout+wait)
	defer cancel()
	return e.withClient(func(c *client.Client) error { return e.signal(ctx, c, kind, orderID, reason, wait) })
}

func (e *env) signal(ctx context.Context, c *client.Client, kind client.CommandKind, orderID, reason string, wait time.Duration) error {
	var opts []client.Option
	if wait > 0 {
		opts = append(opts, client.WithWait(wait))
	}
	var (
		sent client.Sent
		err  error
	)
	switch kind {
	case client.KindApprove:
		sent, err = c.Approve(ctx, orderID, opts...)
	case client.KindCancel:
		sent, err = c.Cancel(ctx, orderID, reason, opts...)
	default:
		return fmt.Errorf("unsupported command %s", kind)
	}
	if err != nil {
		var rej *client.RejectedError
		if errors.As(err, &rej) {
			return fmt.Errorf("%s %s rejected by the bridge: %s", kind, orderID, rej.Result.Reason)
		}
		return err
	}
	if sent.Result == nil {
		e.printf("%s %s: command %s stored (not waited for)\n", kind, orderID, sent.CommandID)
		return nil
	}
	e.printf("%s %s: command %s %s\n", kind, orderID, sent.CommandID, sent.Result.Outcome)
	return nil
}

func (e *env) inspectOrder(ctx context.Context, orderID string) error {
	if err := contracts.ValidateOrderID(orderID); err != nil {
		return err
	}
	wfID := contracts.OrderWorkflowID(orderID)
	e.printf("order:       %s\nworkflow:    %s\ntemporal ui: %s/namespaces/%s/workflows/%s\n", orderID, wfID,
		strings.TrimRight(e.cfg.TemporalUIURL, "/"), url.PathEscape(e.cfg.Temporal.NamespaceName()), url.PathEscape(wfID))

	// Live status from the workflow, through the bridge.
	var reply client.StatusReply
	var serr error
	if err := e.withClient(func(c *client.Client) error {
		sctx, scancel := context.WithTimeout(ctx, 3*time.Second)
		defer scancel()
		reply, serr = c.Status(sctx, orderID)
		return nil
	}); err != nil {
		return err
	}
	switch {
	case errors.Is(serr, client.ErrNotFound):
		e.printf("\nlive status: no workflow for this order\n")
	case serr != nil:
		e.printf("\nlive status: unavailable (%v)\n", serr)
	default:
		printStatus(e, reply)
	}

	// History from the projection.
	pool, err := e.pool(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT seq, type, occurred_at, snapshot->>'state', snapshot->>'step', data::text
		FROM events WHERE order_id = $1 ORDER BY seq`, orderID)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	w := tabwriter.NewWriter(e.out, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "\nSEQ\tTIME\tEVENT\tSTATE\tSTEP\tDATA")
	n := 0
	for rows.Next() {
		var (
			seq              int64
			typ, state, step string
			at               time.Time
			data             string
		)
		if err := rows.Scan(&seq, &typ, &at, &state, &step, &data); err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		if data == "{}" {
			data = ""
		}
		_, _ = fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", seq, at.UTC().Format("15:04:05.000"), typ, state, step, truncate(data, 80))
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	e.printf("%d event(s) projected in PostgreSQL\n", n)
	if serr != nil && n == 0 {
		return fmt.Errorf("order %s is unknown to the workflow and the projection", orderID)
	}
	return nil
}

func printStatus(e *env, r client.StatusReply) {
	st := r.Status
	e.printf("\nlive status (workflow %s):\n  state: %s   step: %s\n", r.WorkflowStatus, st.State, st.Step)
	e.printf("  payment: %s %s %d cents\n", st.Payment.PaymentID, st.Payment.Status, st.Payment.AmountCents)
	if st.Shipping != nil {
		e.printf("  shipping: attempt %d, tracking %q, carrier %q\n", st.Shipping.Attempt, st.Shipping.TrackingNumber, st.Shipping.Carrier)
	}
	steps := make([]string, 0, len(st.Attempts))
	for s := range st.Attempts {
		steps = append(steps, s)
	}
	sort.Strings(steps)
	for _, s := range steps {
		e.printf("  attempts %-17s %d\n", s, st.Attempts[s])
	}
	for _, er := range st.RecentErrors {
		e.printf("  error %s #%d: %s\n", er.Step, er.Attempt, er.Error)
	}
	for _, sg := range st.Signals {
		e.printf("  signal %s accepted=%v %s\n", sg.Signal, sg.Accepted, sg.Reason)
	}
	for _, p := range r.Pending {
		e.printf("  pending %s attempt %d %s %s\n", p.Type, p.Attempt, p.State, p.LastFailure)
	}
	if st.FailureReason != "" {
		e.printf("  failure: %s\n", st.FailureReason)
	}
}
