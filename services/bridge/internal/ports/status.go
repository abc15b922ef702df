package ports

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/logging"
)

// StatusGetter answers one live-status request (app.Status).
type StatusGetter interface {
	Get(ctx context.Context, orderID string) contracts.StatusReply
}

// StatusOptions tune the responder; see bridge.Config for meaning.
type StatusOptions struct {
	Queue       string
	Timeout     time.Duration
	Concurrency int
}

// ServeStatus answers requests on orders.status.<order_id> until ctx ends,
// then drains: requests already received are still answered. Each request
// runs in its own goroutine (bounded), so one slow query does not hold up
// the others.
func ServeStatus(ctx context.Context, nc *nats.Conn, getter StatusGetter, opts StatusOptions, log *slog.Logger) error {
	sem := make(chan struct{}, opts.Concurrency)
	var inflight sync.WaitGroup
	sub, err := nc.QueueSubscribe(contracts.StatusWildcard, opts.Queue, func(m *nats.Msg) {
		sem <- struct{}{}
		inflight.Go(func() {
			defer func() { <-sem }()
			answerStatus(m, getter, opts.Timeout, log)
		})
	})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", contracts.StatusWildcard, err)
	}
	log.Info("answering live status", "subject", contracts.StatusWildcard, "queue", opts.Queue)
	closed := sub.StatusChanged(nats.SubscriptionClosed)
	<-ctx.Done()
	if err := sub.Drain(); err != nil {
		log.Warn("drain status subscription", logging.Err(err))
	} else {
		select {
		case <-closed:
		case <-time.After(opts.Timeout + time.Second):
			log.Warn("status subscription did not finish draining in time")
		}
	}
	inflight.Wait()
	return nil
}

func answerStatus(m *nats.Msg, getter StatusGetter, timeout time.Duration, log *slog.Logger) {
	var reply contracts.StatusReply
	orderID, _ := strings.CutPrefix(m.Subject, contracts.StatusRoot+".")
	if err := contracts.ValidateOrderID(orderID); err != nil {
		reply = contracts.StatusReply{Source: "temporal", Error: err.Error()}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		reply = getter.Get(ctx, orderID)
		cancel()
	}
	body, err := json.Marshal(reply)
	if err != nil {
		log.Error("encode status reply", logging.KeyOrderID, orderID, logging.Err(err))
		return
	}
	if err := m.Respond(body); err != nil {
		log.Warn("send status reply", logging.KeyOrderID, orderID, logging.Err(err))
	}
}
