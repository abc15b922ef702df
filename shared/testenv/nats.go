package testenv

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/shared/natsx"
)

// NATSServer is an embedded NATS server with JetStream, private to one test.
// It is the real server, in process, so a test can also stop and restart it.
type NATSServer struct {
	URL  string
	srv  *server.Server
	opts server.Options
	t    testing.TB
}

// NATS starts a JetStream server on a free port with its store in a temp
// directory and the contract's streams created; it stops when the test ends.
func NATS(t testing.TB) *NATSServer {
	t.Helper()
	s := &NATSServer{t: t, opts: server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}}
	s.Start()
	// Keep the port so a restart comes back where clients reconnect to.
	s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(s.Shutdown)
	js := s.JetStream(s.Conn())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.EnsureStreams(ctx, js); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return s
}

// Start (re)starts the server with its original port and store.
func (s *NATSServer) Start() {
	s.t.Helper()
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		s.t.Fatalf("testenv: nats server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		s.t.Fatalf("testenv: nats server not ready")
	}
	s.srv = srv
	s.URL = fmt.Sprintf("nats://%s", srv.Addr().String())
}

// Shutdown stops the server; Start brings it back with the same data.
func (s *NATSServer) Shutdown() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
}

// Conn returns a client connection closed when the test ends.
func (s *NATSServer) Conn() *nats.Conn {
	s.t.Helper()
	nc, err := nats.Connect(s.URL, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		s.t.Fatalf("testenv: connect nats: %v", err)
	}
	s.t.Cleanup(nc.Close)
	return nc
}

// JetStream wraps nc.
func (s *NATSServer) JetStream(nc *nats.Conn) jetstream.JetStream {
	s.t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		s.t.Fatalf("testenv: jetstream: %v", err)
	}
	return js
}
