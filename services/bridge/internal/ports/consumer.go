// Package ports holds the bridge's entry points, both on NATS: the durable
// command consumer that feeds app.Commands in per-order order, publishes
// results and dead-letters what can never be applied (consumer.go), and the
// live-status request/reply handler (status.go); metrics.go counts what the
// consumer settles.
package ports

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/services/bridge/internal/app"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/permanent"
)

// Applier settles one decoded command (app.Commands).
type Applier interface {
	Apply(ctx context.Context, cmd contracts.Command, acceptedAt, firstTry time.Time) (contracts.CommandResult, error)
}

// ConsumerOptions tune the command consumer; see bridge.Config for meaning.
type ConsumerOptions struct {
	Durable       string
	Queue         string // queue group for the max-deliveries advisory
	Partitions    int
	FetchBatch    int
	MaxAckPending int
	MaxDeliver    int
	AckWait       time.Duration
	CallTimeout   time.Duration
	RetryMin      time.Duration
	RetryMax      time.Duration
	ReorderWindow time.Duration
	// PinnedTTL: a bridge that sends no pull request for this long loses
	// the consumer to another replica (see Consumer).
	PinnedTTL time.Duration
	Metrics   *Metrics // nil: unregistered metrics
}

// PriorityGroup is the consumer's one priority group; the pinned-client
// policy gives it to one bridge at a time.
const PriorityGroup = "bridge"

// Consumer pulls commands from ORDER_COMMANDS and hands each order's
// commands, in stream order, to one sequential partition worker. A command
// stays unacknowledged (kept alive with "in progress") until it is settled,
// so nothing is lost when the bridge stops or Temporal is away.
//
// JetStream delivers first deliveries in stream order but does not keep
// redeliveries in order (a redelivery that finds no waiting pull request is
// queued again behind later ones). So a partition orders what it holds by
// stream sequence, gives a redelivered command a short reorder window for
// its predecessors to arrive, and steps a signal aside while its order's
// workflow does not exist yet, letting an earlier start overtake it.
//
// Many bridges share the durable consumer with the pinned-client priority
// policy: JetStream delivers to one of them at a time, the others stand by,
// and one of them takes over when the pinned bridge stops pulling for
// PinnedTTL. The commands the old bridge held come back only after AckWait,
// later than newer commands; so a bridge that becomes pinned while older
// commands are unsettled (the ack floor is below its first command) fences:
// it holds every command from that point on until the older ones are
// settled or AckWait (plus the reorder window) has passed, and its
// partitions then apply everything in stream order. A delivery lost on its
// way here while the pin stays (a NATS node died with it in flight: a gap in
// the consumer's delivery sequence) comes back after AckWait the same way,
// so a gap raises the same fence.
type Consumer struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	cmds  Applier
	opts  ConsumerOptions
	log   *slog.Logger
	parts []*partition
	cons  jetstream.Consumer
	pinID string // the pin this bridge last saw; only dispatch touches it
	// lastDelivery is the consumer sequence of the last delivery this
	// bridge received under pinID; only dispatch touches it.
	lastDelivery uint64
	fence        fence
}

// pinIDHeader carries the pin on the messages JetStream delivers to the
// pinned client of a priority group.
const pinIDHeader = "Nats-Pin-Id"

// fence holds back commands at or after point while commands before it may
// still be out of this bridge's hands: held by a bridge that lost the pin,
// or lost in delivery.
type fence struct {
	mu    sync.Mutex
	point uint64 // stream sequence; 0: no fence
	until time.Time
	// clear is the stream sequence the ack floor must reach before until for
	// the fence to lift early: the highest point raised while it stood.
	clear uint64
}

// hold reports until when a command at seq must wait; zero: it need not.
func (f *fence) hold(seq uint64) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.point == 0 || seq < f.point {
		return time.Time{}
	}
	return f.until
}

// raise fences from point until until, or widens a fence that stands; it
// reports whether the fence was down (so a watcher must be started).
func (f *fence) raise(point uint64, until time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.point == 0 {
		f.point, f.until, f.clear = point, until, point
		return true
	}
	f.point, f.clear = min(f.point, point), max(f.clear, point)
	if until.After(f.until) {
		f.until = until
	}
	return false
}

// tryLift lifts the fence once the ack floor shows every command before
// clear settled (settled), or at its deadline; lifted says it is down.
func (f *fence) tryLift(ackFloor uint64, floorKnown bool, now time.Time) (lifted, settled bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	settled = floorKnown && ackFloor+1 >= f.clear
	if f.point != 0 && !settled && now.Before(f.until) {
		return false, false
	}
	f.point = 0
	return true, settled
}

// NewConsumer wires the consumer; Run starts it.
func NewConsumer(nc *nats.Conn, js jetstream.JetStream, cmds Applier, opts ConsumerOptions, log *slog.Logger) *Consumer {
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	c := &Consumer{nc: nc, js: js, cmds: cmds, opts: opts, log: log}
	for range opts.Partitions {
		c.parts = append(c.parts, &partition{wake: make(chan struct{}, 1)})
	}
	return c
}

// ConsumerConfig is the durable consumer the bridge declares: explicit acks,
// bounded redelivery, every command subject.
func ConsumerConfig(opts ConsumerOptions) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       opts.Durable,
		Description:   "orderflow bridge: order commands into Temporal",
		FilterSubject: contracts.CommandsWildcard,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       opts.AckWait,
		MaxDeliver:    opts.MaxDeliver,
		MaxAckPending: opts.MaxAckPending,
		// One bridge at a time: see Consumer.
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{PriorityGroup},
		PinnedTTL:      opts.PinnedTTL,
	}
}

// Run consumes until ctx ends, then stops intake, lets each partition finish
// its in-flight command and returns the rest to the stream.
func (c *Consumer) Run(ctx context.Context) error {
	// An older server would accept the consumer without its priority group
	// and then refuse every pull: say so once, up front.
	if err := natsx.CheckServerVersion(c.nc); err != nil {
		return err
	}
	cons, err := c.js.CreateOrUpdateConsumer(ctx, contracts.StreamCommands, ConsumerConfig(c.opts))
	if err != nil {
		return fmt.Errorf("declare consumer %s on %s: %w", c.opts.Durable, contracts.StreamCommands, err)
	}
	c.cons = cons
	adv, err := c.nc.QueueSubscribe(maxDeliveriesSubject(c.opts.Durable), c.opts.Queue, c.onMaxDeliveries(ctx))
	if err != nil {
		return fmt.Errorf("subscribe to max-deliveries advisories: %w", err)
	}
	defer func() { _ = adv.Unsubscribe() }()

	// Partitions queue what arrives before their workers start.
	cc, err := cons.Consume(func(m jetstream.Msg) { c.dispatch(ctx, m) },
		jetstream.PullMaxMessages(c.opts.FetchBatch),
		jetstream.PullPriorityGroup(PriorityGroup),
		// Pull requests must come more often than PinnedTTL, or an idle
		// pinned bridge would lose the pin for nothing.
		jetstream.PullExpiry(max(c.opts.PinnedTTL/2, time.Second)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			c.log.Warn("command consumer", logging.Err(err))
		}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", contracts.StreamCommands, err)
	}
	var workers sync.WaitGroup
	for _, p := range c.parts {
		workers.Go(func() { c.work(ctx, p) })
	}
	kaDone := make(chan struct{})
	var ka sync.WaitGroup
	ka.Go(func() { c.keepAlive(kaDone) })
	c.log.Info("consuming commands", "durable", c.opts.Durable, "partitions", len(c.parts))
	<-ctx.Done()
	cc.Stop()
	<-cc.Closed()
	workers.Wait()
	close(kaDone)
	ka.Wait()
	c.log.Info("command consumer stopped")
	return nil
}

// entry is a held command with its scheduling state.
type entry struct {
	msg       jetstream.Msg
	key       string          // order ID (the subject when it names none)
	seq       uint64          // stream sequence: the order commands must be applied in
	notBefore time.Time       // not tried before this (reorder window, not-found backoff)
	firstTry  time.Time       // zero until tried; the not-found grace runs from it
	backoff   backoff.BackOff // paces tries while its workflow does not exist yet; nil until needed
	fenced    bool            // held by the fence; notBefore is the fence's deadline
}

// partition is one sequential lane: held commands sorted by stream
// sequence, plus the one in flight.
type partition struct {
	mu       sync.Mutex
	queue    []*entry
	inflight *entry
	closed   bool
	wake     chan struct{}
}

// insert keeps the queue sorted by stream sequence. Lock held.
func (p *partition) insert(e *entry) {
	i, _ := slices.BinarySearchFunc(p.queue, e.seq, func(x *entry, seq uint64) int { return cmp.Compare(x.seq, seq) })
	p.queue = slices.Insert(p.queue, i, e)
}

func (p *partition) push(e *entry) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.insert(e)
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// take moves the earliest command that is due in flight, or says how long
// until one may be (zero when nothing is held). A command that is not due
// holds back the later commands of its own order only, so a signal waiting
// for its workflow does not stall the other orders of the partition.
func (p *partition) take(now time.Time) (*entry, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var (
		wait    time.Duration
		waiting map[string]bool // orders with an earlier command not yet due
	)
	for i, e := range p.queue {
		if waiting[e.key] {
			continue
		}
		if d := e.notBefore.Sub(now); d > 0 {
			if waiting == nil {
				waiting = map[string]bool{}
			}
			waiting[e.key] = true
			if wait == 0 || d < wait {
				wait = d
			}
			continue
		}
		p.queue = slices.Delete(p.queue, i, i+1)
		p.inflight = e
		return e, 0
	}
	return nil, wait
}

// release makes the commands the fence held due now.
func (p *partition) release() {
	p.mu.Lock()
	for _, e := range p.queue {
		if e.fenced {
			e.fenced, e.notBefore = false, time.Time{}
		}
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// settle ends the in-flight command; requeue puts it back to be retried.
func (p *partition) settle() {
	p.mu.Lock()
	p.inflight = nil
	p.mu.Unlock()
}

func (p *partition) requeue(e *entry) {
	p.mu.Lock()
	p.inflight = nil
	p.insert(e)
	p.mu.Unlock()
}

func (p *partition) held() []jetstream.Msg {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]jetstream.Msg, 0, len(p.queue)+1)
	if p.inflight != nil {
		out = append(out, p.inflight.msg)
	}
	for _, e := range p.queue {
		out = append(out, e.msg)
	}
	return out
}

// close refuses further commands and returns the ones still queued.
func (p *partition) close() []*entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	q := p.queue
	p.queue = nil
	return q
}

// dispatch routes a message to its order's partition; the subject's order
// ID is the key, so one order's commands never run concurrently.
func (c *Consumer) dispatch(ctx context.Context, m jetstream.Msg) {
	e := &entry{msg: m, key: m.Subject()}
	if orderID, _, err := contracts.ParseCommandSubject(e.key); err == nil {
		e.key = orderID
	}
	var delivery uint64 // the consumer's delivery sequence
	if meta, err := m.Metadata(); err == nil {
		e.seq, delivery = meta.Sequence.Stream, meta.Sequence.Consumer
		if meta.NumDelivered > 1 {
			e.notBefore = time.Now().Add(c.opts.ReorderWindow)
		}
	}
	switch pin := m.Headers().Get(pinIDHeader); {
	case pin == "":
	case pin != c.pinID:
		c.pinID, c.lastDelivery = pin, delivery
		c.pinned(ctx, e.seq)
	case delivery > c.lastDelivery+1:
		c.missed(ctx, e.seq, c.lastDelivery+1, delivery-1)
		c.lastDelivery = delivery
	default:
		c.lastDelivery = max(c.lastDelivery, delivery)
	}
	if until := c.fence.hold(e.seq); !until.IsZero() {
		e.fenced, e.notBefore = true, until
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(e.key))
	if !c.parts[h.Sum32()%uint32(len(c.parts))].push(e) {
		// Shutting down: hand it straight back.
		_ = m.Nak()
	}
}

// pinned runs when this bridge receives its first command as the pinned
// one, at stream sequence first. Commands before first that are neither
// acknowledged nor held here may be with the bridge that had the pin.
func (c *Consumer) pinned(ctx context.Context, first uint64) {
	c.fenceUnlessSettled(ctx, first, "pinned", "first_seq", first)
}

// missed runs when deliveries from..to of the consumer did not reach this
// bridge although it kept the pin: they come back after AckWait, behind the
// command at stream sequence seq and maybe behind later commands of their
// own orders.
func (c *Consumer) missed(ctx context.Context, seq, from, to uint64) {
	c.opts.Metrics.observeMissedDeliveries(to - from + 1)
	c.fenceUnlessSettled(ctx, seq, "deliveries missed", "deliveries", fmt.Sprintf("%d-%d", from, to), "stream_seq", seq)
}

// fenceUnlessSettled holds every command from point on until the older
// ones are settled, unless the ack floor shows they already are.
func (c *Consumer) fenceUnlessSettled(ctx context.Context, point uint64, what string, attrs ...any) {
	info, err := c.cons.Info(ctx)
	if err != nil {
		// Unknown: fence for the whole bound rather than risk the order.
		c.log.Warn(what+", but the consumer's ack floor is unknown; fencing", append(attrs, logging.Err(err))...)
	}
	if err == nil && info.AckFloor.Stream+1 >= point {
		c.log.Info(what+"; every older command is settled", attrs...)
		return
	}
	c.raiseFence(ctx, point, info, what+" while older commands are unsettled; holding newer ones until they are")
}

// raiseFence holds commands from point on for at most AckWait plus the
// reorder window plus a second: by then every delivery before point has
// come back here or been settled elsewhere.
func (c *Consumer) raiseFence(ctx context.Context, point uint64, info *jetstream.ConsumerInfo, why string) {
	until := time.Now().Add(c.opts.AckWait + c.opts.ReorderWindow + time.Second)
	start := c.fence.raise(point, until)
	floor := uint64(0)
	if info != nil {
		floor = info.AckFloor.Stream
	}
	c.log.Warn(why, "first_seq", point, "ack_floor", floor, "until", until)
	if start {
		go c.watchFence(ctx)
	}
}

// watchFence lifts the fence once every command before its point is
// settled, or at its deadline.
func (c *Consumer) watchFence(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			info, err := c.cons.Info(ctx)
			floor := uint64(0)
			if err == nil {
				floor = info.AckFloor.Stream
			}
			lifted, settled := c.fence.tryLift(floor, err == nil, now)
			if !lifted {
				continue
			}
			for _, p := range c.parts {
				p.release()
			}
			c.log.Info("fence lifted", "ack_floor", floor, "older_settled", settled)
			return
		}
	}
}

func (c *Consumer) work(ctx context.Context, p *partition) {
	for {
		if ctx.Err() != nil {
			for _, rest := range p.close() {
				_ = rest.msg.Nak()
			}
			return
		}
		e, wait := p.take(time.Now())
		if e == nil {
			var timer <-chan time.Time
			if wait > 0 {
				timer = time.After(wait)
			}
			select {
			case <-p.wake:
			case <-timer:
			case <-ctx.Done():
			}
			continue
		}
		if c.handle(ctx, e) {
			p.settle()
			continue
		}
		if e.backoff == nil {
			e.backoff = c.pace().New()
		}
		e.notBefore = time.Now().Add(e.backoff.NextBackOff())
		p.requeue(e)
	}
}

// keepAlive tells the broker every held command is still being worked on,
// so a command waiting behind a slow one (or for Temporal to come back) is
// not redelivered to another bridge and applied out of order.
func (c *Consumer) keepAlive(done <-chan struct{}) {
	t := time.NewTicker(c.opts.AckWait / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			for _, p := range c.parts {
				for _, m := range p.held() {
					_ = m.InProgress()
				}
			}
		}
	}
}

// handle settles one command and reports whether it is done with (acked,
// dead-lettered or handed back); false means "not yet, try again shortly".
func (c *Consumer) handle(ctx context.Context, e *entry) bool {
	m := e.msg
	meta, err := m.Metadata()
	if err != nil {
		c.log.Error("command without JetStream metadata; dropping", "subject", m.Subject(), logging.Err(err))
		_ = m.Term()
		return true
	}
	cmd, cmdID, err := decode(m.Subject(), m.Headers(), m.Data(), meta.Stream, meta.Sequence.Stream)
	// The command's span continues the trace the sender put in its headers
	// (the API's request); the Temporal client's spans become its children.
	ctx, span := tracer.Start(natsx.ExtractTrace(ctx, m.Headers()), "apply "+string(cmd.Kind),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.String("messaging.destination.name", m.Subject()),
			attribute.String("order.id", cmd.OrderID), attribute.String("command.id", cmdID), attribute.Int("messaging.delivery", int(meta.NumDelivered))))
	defer span.End()
	log := c.log.With(logging.KeyCommandID, cmdID, "subject", m.Subject(),
		"stream_seq", meta.Sequence.Stream, "delivery", meta.NumDelivered)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		c.deadLetter(ctx, m, cmdID, err.Error(), dlqUndecodable, log)
		return true
	}
	if e.firstTry.IsZero() {
		e.firstTry = time.Now()
	}
	res, err := c.cmds.Apply(ctx, cmd, meta.Timestamp, e.firstTry)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	switch {
	case errors.Is(err, app.ErrWorkflowNotYet):
		return false
	case permanent.Is(err):
		c.deadLetter(ctx, m, cmdID, err.Error(), dlqRefused, log)
		return true
	case err != nil:
		log.InfoContext(ctx, "command returned to the stream", logging.KeyOrderID, cmd.OrderID, logging.Err(err))
		_ = m.Nak()
		return true
	}
	span.SetAttributes(attribute.String("command.outcome", string(res.Outcome)))
	c.opts.Metrics.observeSettled(cmd.Kind, res, time.Since(e.firstTry))
	if err := c.publishResult(ctx, res, log); err != nil {
		log.InfoContext(ctx, "command returned to the stream before its result was published", logging.KeyOrderID, cmd.OrderID, logging.Err(err))
		_ = m.Nak()
		return true
	}
	if err := m.Ack(); err != nil {
		// A lost ack means one redelivery, which app.Commands settles
		// idempotently.
		log.WarnContext(ctx, "ack command", logging.KeyOrderID, cmd.OrderID, logging.Err(err))
	}
	return true
}

// deadLetter parks a command that can never be applied, tells its sender
// (when the subject names an order) and terminates it so it is not
// redelivered.
func (c *Consumer) deadLetter(ctx context.Context, m jetstream.Msg, cmdID, reason, label string, log *slog.Logger) {
	if err := c.park(ctx, m.Subject(), m.Data(), cmdID, reason, label, log); err != nil {
		log.InfoContext(ctx, "command returned to the stream before it was dead-lettered", logging.Err(err))
		_ = m.Nak()
		return
	}
	if err := m.TermWithReason("dead-lettered"); err != nil {
		log.WarnContext(ctx, "terminate dead-lettered command", logging.Err(err))
	}
}

func (c *Consumer) park(ctx context.Context, subject string, body []byte, cmdID, reason, label string, log *slog.Logger) error {
	log.WarnContext(ctx, "dead-lettering command", "reason", reason)
	err := c.retry(ctx, "dead-letter", log, func(ctx context.Context) error {
		return natsx.DeadLetter(ctx, c.js, contracts.DLQCommands, subject, body, cmdID, reason)
	})
	if err != nil {
		return err
	}
	c.opts.Metrics.observeDeadLetter(subject, label)
	orderID, kind, err := contracts.ParseCommandSubject(subject)
	if err != nil {
		return nil // no order to report to
	}
	return c.publishResult(ctx, contracts.CommandResult{
		CommandID: cmdID, OrderID: orderID, Kind: kind, WorkflowID: contracts.OrderWorkflowID(orderID),
		Outcome: contracts.OutcomeRejected, Reason: reason, At: time.Now().UTC(),
	}, log)
}

func (c *Consumer) publishResult(ctx context.Context, res contracts.CommandResult, log *slog.Logger) error {
	msg, err := natsx.ResultMsg(res)
	if err != nil {
		return err
	}
	return c.retry(ctx, "publish result", log, func(ctx context.Context) error {
		_, err := c.js.PublishMsg(ctx, msg)
		return err
	})
}

// retry runs f until it succeeds or ctx ends, each try bounded by the call
// timeout and not torn by shutdown.
func (c *Consumer) retry(ctx context.Context, what string, log *slog.Logger, f func(context.Context) error) error {
	_, err := app.RetryInPlace(ctx, what, c.pace(), c.opts.CallTimeout,
		func(ctx context.Context, _ int) (struct{}, error) { return struct{}{}, f(ctx) },
		func(err error, attempt int, next time.Duration) {
			log.WarnContext(ctx, what+" failed; retrying in place", logging.Err(err), logging.KeyAttempt, attempt, "backoff", next)
		})
	return err
}

// pace is the backoff of in-place retries and of a signal waiting for its workflow.
func (c *Consumer) pace() app.Backoff {
	return app.Backoff{Min: c.opts.RetryMin, Max: c.opts.RetryMax}
}

// decode turns a stored message into a command. The command ID is returned
// even when decoding fails, so a dead letter and its rejection can name it.
func decode(subject string, h nats.Header, body []byte, stream string, seq uint64) (contracts.Command, string, error) {
	id := commandID(h, body, stream, seq)
	cmd, err := contracts.DecodeCommand(subject, body)
	if err != nil {
		return contracts.Command{}, id, err
	}
	cmd.CommandID = id
	return cmd, id, nil
}

// commandID is the Nats-Msg-Id header, else the body's command_id, else one
// derived from the stream position (stable across redeliveries).
func commandID(h nats.Header, body []byte, stream string, seq uint64) string {
	if id := h.Get(contracts.HeaderMsgID); id != "" {
		return id
	}
	var b struct {
		CommandID string `json:"command_id"`
	}
	if json.Unmarshal(body, &b) == nil && b.CommandID != "" {
		return b.CommandID
	}
	return stream + "-" + strconv.FormatUint(seq, 10)
}

func maxDeliveriesSubject(durable string) string {
	return "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + contracts.StreamCommands + "." + durable
}

// maxDeliveriesAdvisory is the part of the broker's advisory we need.
type maxDeliveriesAdvisory struct {
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// onMaxDeliveries dead-letters a command the broker gave up redelivering
// (a bridge kept dying or stalling on it), so it is not silently dropped.
func (c *Consumer) onMaxDeliveries(ctx context.Context) nats.MsgHandler {
	return func(m *nats.Msg) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil || adv.StreamSeq == 0 {
			c.log.Error("unreadable max-deliveries advisory", "body", string(m.Data))
			return
		}
		log := c.log.With("stream_seq", adv.StreamSeq, "deliveries", adv.Deliveries)
		getCtx, cancel := context.WithTimeout(ctx, c.opts.CallTimeout)
		defer cancel()
		stream, err := c.js.Stream(getCtx, contracts.StreamCommands)
		if err != nil {
			log.Error("look up command stream", logging.Err(err))
			return
		}
		raw, err := stream.GetMsg(getCtx, adv.StreamSeq)
		if err != nil {
			log.Error("read command that exceeded max deliveries", logging.Err(err))
			return
		}
		cmdID := commandID(raw.Header, raw.Data, contracts.StreamCommands, adv.StreamSeq)
		reason := fmt.Sprintf("not settled after %d deliveries", adv.Deliveries)
		if err := c.park(ctx, raw.Subject, raw.Data, cmdID, reason, dlqMaxDeliveries, log.With(logging.KeyCommandID, cmdID)); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("dead-letter command that exceeded max deliveries", logging.Err(err))
		}
	}
}
