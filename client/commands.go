package client

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Client sends commands, asks for live status and follows events over one
// NATS connection, which the caller owns.
type Client struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// New wraps a connected nc.
func New(nc *nats.Conn) (*Client, error) {
	if nc == nil {
		return nil, errors.New("client: nil NATS connection")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("client: jetstream: %w", err)
	}
	return &Client{nc: nc, js: js}, nil
}

// StartOrder is the body of a start command. Without Items and Address the
// services apply a default item and address.
type StartOrder struct {
	PaymentID    string   // required; the idempotency key of the charge
	Items        []Item   // optional; when set, at least one
	Address      *Address // optional
	ManualReview bool     // hold the order until Approve
}

// Option adjusts one command.
type Option func(*sendOptions)

type sendOptions struct {
	commandID string
	wait      time.Duration
}

// WithCommandID sets the command ID (default: a random UUID). It is the
// JetStream Nats-Msg-Id, so re-sending a command with the same ID is
// harmless: the broker drops it within its window and the bridge reports
// it as a duplicate after.
func WithCommandID(id string) Option { return func(o *sendOptions) { o.commandID = id } }

// WithWait waits up to d for the bridge's outcome of the command. Without
// it a command returns once JetStream has stored it.
func WithWait(d time.Duration) Option { return func(o *sendOptions) { o.wait = d } }

// Sent is a stored command and, when waited for, its outcome.
type Sent struct {
	CommandID string
	OrderID   string
	Kind      CommandKind
	// Duplicate is set when the broker already held a command with this ID.
	Duplicate bool
	// Result is the bridge's outcome; nil unless WithWait was given.
	Result *CommandResult
}

// RejectedError is returned when the bridge refused a command that was
// waited for; Result.Reason says why.
type RejectedError struct{ Result CommandResult }

func (e *RejectedError) Error() string {
	return fmt.Sprintf("%s of order %s rejected: %s", e.Result.Kind, e.Result.OrderID, e.Result.Reason)
}

// Start starts an order.
func (c *Client) Start(ctx context.Context, orderID string, s StartOrder, opts ...Option) (Sent, error) {
	if s.PaymentID == "" {
		return Sent{}, errors.New("client: start: payment_id is required")
	}
	if s.Items != nil && len(s.Items) == 0 {
		return Sent{}, errors.New("client: start: items must contain at least one item when set")
	}
	return c.Send(ctx, Command{OrderID: orderID, Kind: KindStart, PaymentID: s.PaymentID,
		Items: s.Items, Address: s.Address, ManualReview: s.ManualReview}, opts...)
}

// Cancel cancels an order until its carrier is dispatched; reason is optional.
func (c *Client) Cancel(ctx context.Context, orderID, reason string, opts ...Option) (Sent, error) {
	return c.Send(ctx, Command{OrderID: orderID, Kind: KindCancel, Reason: reason}, opts...)
}

// UpdateAddress changes the shipping address until the carrier is dispatched.
func (c *Client) UpdateAddress(ctx context.Context, orderID string, a Address, opts ...Option) (Sent, error) {
	if a.Street == "" || a.City == "" || a.State == "" || a.ZipCode == "" {
		return Sent{}, errors.New("client: update-address: street, city, state and zip_code are required")
	}
	return c.Send(ctx, Command{OrderID: orderID, Kind: KindUpdateAddress, Address: &a}, opts...)
}

// Approve approves an order held for manual review.
func (c *Client) Approve(ctx context.Context, orderID string, opts ...Option) (Sent, error) {
	return c.Send(ctx, Command{OrderID: orderID, Kind: KindApprove}, opts...)
}

// Send stores cmd in ORDER_COMMANDS; the typed methods call it. It fills
// CommandID and IssuedAt when they are empty.
func (c *Client) Send(ctx context.Context, cmd Command, opts ...Option) (Sent, error) {
	var o sendOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := ValidateOrderID(cmd.OrderID); err != nil {
		return Sent{}, fmt.Errorf("client: %w", err)
	}
	if o.commandID != "" {
		cmd.CommandID = o.commandID
	}
	if cmd.CommandID == "" {
		cmd.CommandID = newID()
	}
	if cmd.IssuedAt.IsZero() {
		cmd.IssuedAt = time.Now().UTC()
	}
	body, err := json.Marshal(cmd)
	if err != nil {
		return Sent{}, fmt.Errorf("client: encode command: %w", err)
	}
	m := nats.NewMsg(CommandSubject(cmd.OrderID, cmd.Kind))
	m.Data = body
	m.Header.Set(HeaderMsgID, cmd.CommandID)
	m.Header.Set(HeaderCommandID, cmd.CommandID)
	m.Header.Set("content-type", "application/json")

	// Listen for the outcome before publishing, so it cannot slip past.
	var results jetstream.MessagesContext
	if o.wait > 0 {
		if results, err = c.results(ctx, cmd.OrderID); err != nil {
			return Sent{}, err
		}
		defer results.Stop()
	}
	ack, err := c.js.PublishMsg(ctx, m)
	if err != nil {
		return Sent{}, fmt.Errorf("client: publish %s: %w", m.Subject, err)
	}
	sent := Sent{CommandID: cmd.CommandID, OrderID: cmd.OrderID, Kind: cmd.Kind, Duplicate: ack.Duplicate}
	if o.wait == 0 {
		return sent, nil
	}
	wctx, cancel := context.WithTimeout(ctx, o.wait)
	defer cancel()
	res, err := nextResult(wctx, results, cmd.CommandID)
	if err != nil {
		return sent, err
	}
	sent.Result = &res
	if res.Outcome == OutcomeRejected {
		return sent, &RejectedError{Result: res}
	}
	return sent, nil
}

// WaitResult waits for the outcome of an earlier command, also when the
// bridge published it before the call (results are kept for 24 hours).
func (c *Client) WaitResult(ctx context.Context, orderID, commandID string) (CommandResult, error) {
	it, err := c.results(ctx, orderID)
	if err != nil {
		return CommandResult{}, err
	}
	defer it.Stop()
	return nextResult(ctx, it, commandID)
}

// results replays and follows orders.results.<orderID> from the start of
// ORDER_RESULTS, so a result published before the wait began is found too.
func (c *Client) results(ctx context.Context, orderID string) (jetstream.MessagesContext, error) {
	cons, err := c.js.OrderedConsumer(ctx, StreamResults, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{ResultSubject(orderID)},
	})
	if err != nil {
		return nil, fmt.Errorf("client: follow results of %s: %w", orderID, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("client: follow results of %s: %w", orderID, err)
	}
	return it, nil
}

// nextResult returns the first result for commandID that it yields.
func nextResult(ctx context.Context, it jetstream.MessagesContext, commandID string) (CommandResult, error) {
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return CommandResult{}, fmt.Errorf("client: no outcome for command %s: %w", commandID, ctx.Err())
			}
			return CommandResult{}, fmt.Errorf("client: results: %w", err)
		}
		var r CommandResult
		if err := json.Unmarshal(m.Data(), &r); err != nil {
			return CommandResult{}, fmt.Errorf("client: decode result on %s: %w", m.Subject(), err)
		}
		if r.CommandID == commandID {
			return r, nil
		}
	}
}

// ErrNotFound is returned by Status when no workflow exists for the order.
var ErrNotFound = errors.New("order not found")

// Status asks the bridge for the order's live status (the workflow's
// status query). It returns ErrNotFound for an unknown order.
func (c *Client) Status(ctx context.Context, orderID string) (StatusReply, error) {
	if err := ValidateOrderID(orderID); err != nil {
		return StatusReply{}, fmt.Errorf("client: %w", err)
	}
	msg, err := c.nc.RequestWithContext(ctx, StatusSubject(orderID), nil)
	if err != nil {
		return StatusReply{}, fmt.Errorf("client: status of %s: %w", orderID, err)
	}
	var r StatusReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return StatusReply{}, fmt.Errorf("client: decode status of %s: %w", orderID, err)
	}
	if r.NotFound {
		return r, fmt.Errorf("client: status of %s: %w", orderID, ErrNotFound)
	}
	if r.Error != "" {
		return r, fmt.Errorf("client: status of %s: %s", orderID, r.Error)
	}
	return r, nil
}

// newID is a random UUID (version 4), the default command ID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
