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
	"github.com/testcontainers/testcontainers-go"

	"github.com/orderflow/orderflow/shared/natsx"
)

// NATSServer is a NATS JetStream server private to one test: a container
// (the default) or, with ORDERFLOW_TEST_INFRA=local, an embedded server. It
// is the real server either way, so a test can also stop and restart it.
type NATSServer struct {
	URL  string
	t    testing.TB
	srv  *server.Server // embedded
	opts server.Options
	ctr  testcontainers.Container // container
}

// NATS starts a JetStream server on a free port with its store on disk and
// the contract's streams created; it is removed when the test ends.
func NATS(t testing.TB) *NATSServer {
	t.Helper()
	s := &NATSServer{t: t}
	if useContainers() {
		s.startContainer()
	} else {
		s.opts = server.Options{
			Host:      "127.0.0.1",
			Port:      server.RANDOM_PORT,
			JetStream: true,
			StoreDir:  t.TempDir(),
			NoLog:     true,
			NoSigs:    true,
		}
		s.Start()
		// Keep the port so a restart comes back where clients reconnect to.
		s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
		t.Cleanup(s.Shutdown)
	}
	js := s.JetStream(s.Conn())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.EnsureStreams(ctx, js); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return s
}

// EmbeddedNATS runs an in-process NATS server with opts, quiet (NoLog,
// NoSigs), and returns its client URL; it is shut down when the test ends.
// It is for tests that need a server configured their way (users, roles,
// a rendered configuration file) and run in process whatever
// ORDERFLOW_TEST_INFRA says; NATS is the one with the contract's streams.
func EmbeddedNATS(t testing.TB, opts *server.Options) string {
	t.Helper()
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("testenv: nats server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("testenv: nats server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}

// startContainer runs the NATS image on a free loopback port; the store
// lives in the container, so a stop and start keeps the streams.
func (s *NATSServer) startContainer() {
	s.t.Helper()
	err := withFreePorts(1, func(ports []int) error {
		s.URL = fmt.Sprintf("nats://127.0.0.1:%d", ports[0])
		var err error
		s.ctr, err = startContainer(context.Background(), containerSpec{
			what:  "NATS",
			image: natsImage(),
			cmd:   []string{"-a", "127.0.0.1", "-p", fmt.Sprint(ports[0]), "-js", "-sd", "/data/jetstream"},
			ready: func(context.Context) error {
				nc, err := nats.Connect(s.URL, nats.Timeout(time.Second))
				if err != nil {
					return err
				}
				nc.Close()
				return nil
			},
		})
		return err
	})
	if err != nil {
		s.t.Fatalf("testenv: %v", err)
	}
	s.t.Cleanup(func() { terminate(s.t, s.ctr) })
}

// Start restarts the server stopped by Shutdown, on its port with its data.
func (s *NATSServer) Start() {
	s.t.Helper()
	if s.ctr != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.ctr.Start(ctx); err != nil {
			s.t.Fatalf("testenv: restart nats container: %v", err)
		}
		return
	}
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
	if s.ctr != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		timeout := 5 * time.Second
		if err := s.ctr.Stop(ctx, &timeout); err != nil {
			s.t.Errorf("testenv: stop nats container: %v", err)
		}
		return
	}
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
	}
}

// Conn returns a client connection closed when the test ends.
func (s *NATSServer) Conn() *nats.Conn {
	s.t.Helper()
	return Connect(s.t, s.URL)
}

// JetStream wraps nc.
func (s *NATSServer) JetStream(nc *nats.Conn) jetstream.JetStream {
	s.t.Helper()
	return JetStream(s.t, nc)
}

// Connect connects to the NATS server at url, reconnecting for ever 100 ms
// apart unless opts say otherwise; the connection closes when the test ends.
func Connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatalf("testenv: connect nats: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// JetStream wraps nc.
func JetStream(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("testenv: jetstream: %v", err)
	}
	return js
}
