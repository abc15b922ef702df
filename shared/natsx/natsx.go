// Package natsx connects to NATS and declares the JetStream streams of the
// contract. Streams are declared here, not auto-provisioned, so their
// subjects, retention and deduplication windows are explicit.
package natsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/shared/contracts"
)

// Connect dials NATS with reconnects that never give up, logging changes.
func Connect(url, name string, log *slog.Logger) (*nats.Conn, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to nats at %s: %w", url, err)
	}
	return nc, nil
}

// StreamConfigs are the streams of the contract.
func StreamConfigs() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name:        contracts.StreamCommands,
			Description: "Order commands from the API and other systems; consumed by the bridge.",
			Subjects:    []string{contracts.CommandsWildcard},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      7 * 24 * time.Hour,
			Duplicates:  2 * time.Minute,
		},
		{
			Name:        contracts.StreamEvents,
			Description: "Order events; the projection can be rebuilt from this stream.",
			Subjects:    []string{contracts.EventsWildcard},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Duplicates:  10 * time.Minute,
		},
		{
			Name:        contracts.StreamResults,
			Description: "The bridge's outcome of every command, kept so senders can look it up.",
			Subjects:    []string{contracts.ResultsWildcard},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      24 * time.Hour,
		},
		{
			Name:        contracts.StreamDLQ,
			Description: "Messages that can never be processed, with the reason in a header.",
			Subjects:    []string{contracts.DLQRoot + ".>"},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      30 * 24 * time.Hour,
		},
	}
}

// EnsureStreams creates or updates every stream of the contract.
func EnsureStreams(ctx context.Context, js jetstream.JetStream) error {
	for _, cfg := range StreamConfigs() {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// DeadLetter republishes msg's body on subject with the reason, so a message
// that can never succeed is kept for inspection instead of retried forever.
func DeadLetter(ctx context.Context, js jetstream.JetStream, subject, originalSubject string, body []byte, msgID, reason string) error {
	m := nats.NewMsg(subject)
	m.Data = body
	m.Header.Set(contracts.HeaderReason, reason)
	m.Header.Set(contracts.HeaderOriginalSubject, originalSubject)
	if msgID != "" {
		m.Header.Set(contracts.HeaderMsgID, "dlq-"+msgID)
	}
	if _, err := js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("dead-letter to %s: %w", subject, err)
	}
	return nil
}

// IsNoResponders reports whether a request found nobody listening.
func IsNoResponders(err error) bool { return errors.Is(err, nats.ErrNoResponders) }

// ConnectJetStream connects to NATS and makes sure the contract's streams
// exist, so any service may start first.
func ConnectJetStream(ctx context.Context, url, name string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := Connect(url, name, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := EnsureStreams(sctx, js); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}
