// Package natsx owns orderflow's use of NATS: connecting with the
// service's identity and TLS (Options, Connect, ConnectJetStream) and dead
// letters (natsx.go), the JetStream streams of the contract with their
// configured replicas and limits, provisioned, verified and waited for
// (streams.go), the messages for commands, events and results
// (messages.go), trace context in headers (trace.go), and the
// least-privilege roles with the server configuration they render to
// (roles.go). Streams are declared here, not auto-provisioned, so their
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

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
)

// Options are the identity and transport options of cfg: credentials file,
// nkey seed or user and password, TLS, and the inbox prefix.
func Options(cfg config.NATS) ([]nats.Option, error) {
	// At most one identity: config.NATS.Validate, checked again here for
	// callers that built cfg by hand.
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var opts []nats.Option
	if cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	}
	if cfg.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(cfg.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("NATS_NKEY_SEED_FILE: %w", err)
		}
		opts = append(opts, o)
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCAFile))
	}
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCertFile, cfg.TLSKeyFile))
	}
	if cfg.InboxPrefix != "" && cfg.InboxPrefix != nats.InboxPrefix[:len(nats.InboxPrefix)-1] {
		opts = append(opts, nats.CustomInboxPrefix(cfg.InboxPrefix))
	}
	return opts, nil
}

// Connect dials NATS with reconnects that never give up, logging changes.
func Connect(cfg config.NATS, name string, log *slog.Logger) (*nats.Conn, error) {
	idOpts, err := Options(cfg)
	if err != nil {
		return nil, err
	}
	url := cfg.URL
	nc, err := nats.Connect(url, append(idOpts,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
		// A refused publish or subscribe arrives asynchronously; without
		// this handler it would go unnoticed.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats error", "error", err, "subscription", subject)
		}),
	)...)
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

// EnsureStreams creates or updates every stream of the contract at its
// default settings (one replica). On a cluster provisioned with other
// settings (StreamConfigsWith) it would undo them: there services run with
// NATS_PROVISION_STREAMS=false.
func EnsureStreams(ctx context.Context, js jetstream.JetStream) error {
	return ProvisionStreams(ctx, js, StreamConfigs())
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

// CheckStreams verifies that the named streams exist, waiting for them
// (an operator may be provisioning them as the service starts) until ctx
// ends.
func CheckStreams(ctx context.Context, js jetstream.JetStream, names ...string) error {
	for _, name := range names {
		for {
			_, err := js.Stream(ctx, name)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("stream %s (provision it with `orderflow streams provision`, or set NATS_PROVISION_STREAMS=true): %w", name, err)
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// ConnectJetStream connects to NATS and waits, up to 30 s, for the streams
// in check to exist (a least-privilege user may look at its own streams
// only); with cfg.ProvisionStreams on it creates or updates every stream of
// the contract at its defaults instead.
func ConnectJetStream(ctx context.Context, cfg config.NATS, name string, log *slog.Logger, check ...string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := Connect(cfg, name, log)
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
	if cfg.ProvisionStreams {
		err = EnsureStreams(sctx, js)
	} else {
		err = CheckStreams(sctx, js, check...)
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}
