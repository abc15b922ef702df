package main

import (
	"context"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// A nats-server older than the bridge needs (Debian bookworm ships 2.9) on
// NATS_URL is left alone: the run command starts its own JetStream server
// on a free port, with the streams, and hands that URL to the services.
func TestOlderNATSServerIsReplacedByAnEmbeddedOne(t *testing.T) {
	old := testenv.NATSAnnouncing(t, "2.9.10")
	s := &stack{cfg: Config{NATSURL: old, DataDir: t.TempDir()}, log: testenv.Logger(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.ensureNATS(ctx); err != nil {
		t.Fatal(err)
	}
	if s.natsURL == old || s.natsServer == nil {
		t.Fatalf("NATS_URL %s kept (embedded server %v)", s.natsURL, s.natsServer)
	}
	t.Cleanup(s.natsServer.Shutdown)
	nc := testenv.Connect(t, s.natsURL)
	if got := testenv.StreamInfo(t, testenv.JetStream(t, nc), contracts.StreamCommands).Config.Name; got != contracts.StreamCommands {
		t.Fatalf("stream %q", got)
	}
	if err := natsx.CheckServerVersion(nc); err != nil {
		t.Fatal(err)
	}
}
