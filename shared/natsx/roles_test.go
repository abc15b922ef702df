package natsx_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

const shippedConfig = "../../deploy/nats/orderflow.conf"

// The shipped configuration is exactly what the role table renders; set
// ORDERFLOW_UPDATE_GOLDEN=1 to rewrite it after changing a role.
func TestShippedConfigIsRendered(t *testing.T) {
	want, err := natsx.ShippedServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("ORDERFLOW_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(shippedConfig, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale; run ORDERFLOW_UPDATE_GOLDEN=1 go test ./natsx", shippedConfig)
	}
}

// startShipped runs the shipped configuration on a free port with a
// password per role from the environment, as an operator would.
func startShipped(t *testing.T) (url string, passwords map[string]string) {
	t.Helper()
	passwords = map[string]string{}
	for _, r := range natsx.Roles("bridge", "projector") {
		p := "pw-" + r.Name + "-" + t.Name()
		passwords[r.Name] = p
		t.Setenv(natsx.PasswordVar(r.Name), p)
	}
	opts, err := server.ProcessConfigFile(shippedConfig)
	if err != nil {
		t.Fatalf("shipped config: %v", err)
	}
	opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	opts.StoreDir = t.TempDir()
	return testenv.EmbeddedNATS(t, opts), passwords
}

// conn is a role's connection with the server's refusals collected.
type conn struct {
	t    *testing.T
	role string
	nc   *nats.Conn
	js   jetstream.JetStream
	mu   sync.Mutex
	errs []error
}

func connectRole(t *testing.T, url, role string, cfg config.NATS) *conn {
	t.Helper()
	c := &conn{t: t, role: role}
	cfg.URL = url
	cfg.InboxPrefix = natsx.Inbox(role)
	opts, err := natsx.Options(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		c.mu.Lock()
		c.errs = append(c.errs, err)
		c.mu.Unlock()
	}))
	c.nc, err = nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("%s connects: %v", role, err)
	}
	t.Cleanup(c.nc.Close)
	c.js, _ = jetstream.New(c.nc)
	return c
}

// refused waits for the server's refusal of subject. The refusal arrives
// asynchronously (the client's error callback), so it is awaited rather
// than checked once.
func (c *conn) refused(subject string) bool {
	c.t.Helper()
	if err := c.nc.Flush(); err != nil {
		c.t.Fatalf("%s flush: %v", c.role, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for i, err := range c.errs {
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), `"`+subject+`"`) {
				c.errs = append(c.errs[:i], c.errs[i+1:]...)
				c.mu.Unlock()
				return true
			}
		}
		c.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func (c *conn) mustRefusePublish(subject string) {
	c.t.Helper()
	if err := c.nc.Publish(subject, []byte("{}")); err != nil {
		c.t.Fatalf("%s publish %s: %v", c.role, subject, err)
	}
	if !c.refused(subject) {
		c.t.Errorf("role %s may publish to %s; it must be refused", c.role, subject)
	}
}

func (c *conn) mustRefuseSubscribe(subject string) {
	c.t.Helper()
	sub, err := c.nc.SubscribeSync(subject)
	if err != nil {
		c.t.Fatalf("%s subscribe %s: %v", c.role, subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if !c.refused(subject) {
		c.t.Errorf("role %s may subscribe to %s; it must be refused", c.role, subject)
	}
}

func (c *conn) mustPublishJS(subject string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.js.Publish(ctx, subject, []byte(`{}`)); err != nil {
		c.t.Errorf("role %s cannot store on %s: %v", c.role, subject, err)
	}
}

func (c *conn) mustReceive(subject string, send func()) {
	c.t.Helper()
	sub, err := c.nc.SubscribeSync(subject)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := c.nc.Flush(); err != nil {
		c.t.Fatal(err)
	}
	send()
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		c.t.Errorf("role %s got nothing on %s: %v", c.role, subject, err)
	}
}

// mustConsume creates a durable pull consumer on stream and fetches one
// message from it.
func (c *conn) mustConsume(stream, durable string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := c.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: durable, AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		c.t.Fatalf("role %s cannot create consumer %s on %s: %v", c.role, durable, stream, err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(3*time.Second))
	if err != nil {
		c.t.Fatalf("role %s fetch from %s: %v", c.role, stream, err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		if err := m.DoubleAck(ctx); err != nil {
			c.t.Errorf("role %s ack on %s: %v", c.role, stream, err)
		}
	}
	if n != 1 {
		c.t.Errorf("role %s fetched %d messages from %s (err %v), want 1", c.role, n, stream, batch.Error())
	}
}

// Each role does what it is for, and is refused when it tries what it is
// not for: forging another role's messages, reading what it has no need
// to read, or managing streams and other roles' consumers.
func TestRolesAreLeastPrivilege(t *testing.T) {
	url, pw := startShipped(t)
	as := func(role string) *conn {
		return connectRole(t, url, role, config.NATS{User: role, Password: pw[role]})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Nobody gets in without credentials or with another role's password.
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Fatal("anonymous connection accepted")
	}
	if nc, err := nats.Connect(url, nats.UserInfo("bridge", pw["api"])); err == nil {
		nc.Close()
		t.Fatal("bridge with the api's password accepted")
	}

	admin := as("admin")
	if err := natsx.EnsureStreams(ctx, admin.js); err != nil {
		t.Fatalf("admin provisions streams: %v", err)
	}
	for _, role := range []string{"api", "bridge", "order-worker", "shipping-worker", "projector", "command-publisher", "event-reader"} {
		c := as(role)
		c.mustRefusePublish("$JS.API.STREAM.CREATE." + contracts.StreamCommands)
		c.mustRefusePublish("$JS.API.STREAM.UPDATE." + contracts.StreamEvents)
		c.mustRefusePublish("$JS.API.STREAM.DELETE." + contracts.StreamResults)
	}
	order := "o-1"
	start := contracts.CommandSubject(order, contracts.CommandStart)
	event := contracts.EventSubject(order, contracts.EventReceived)
	result := contracts.ResultSubject(order)

	// Each role's rights: what it is for (may), then what it must be refused.
	for _, r := range []struct {
		role            string
		may             func(c *conn)
		mayNotPublish   []string
		mayNotSubscribe []string
	}{{
		role: "api",
		may: func(c *conn) {
			c.mustPublishJS(start)
			if err := natsx.CheckStreams(ctx, c.js, contracts.StreamCommands, contracts.StreamResults); err != nil {
				c.t.Errorf("api cannot check its streams: %v", err)
			}
			c.mustReceive(result, func() { as("bridge").mustPublishJS(result) })
			as("order-worker").mustPublishJS(event)
			c.mustConsume(contracts.StreamEvents, "api-board") // the board's feed
		},
		mayNotPublish: []string{
			"$JS.API.CONSUMER.DELETE." + contracts.StreamEvents + ".projector",
			event,
			result,
			"$JS.API.STREAM.DELETE." + contracts.StreamCommands,
			"$JS.API.CONSUMER.CREATE." + contracts.StreamCommands + ".steal",
		},
		mayNotSubscribe: []string{contracts.EventsWildcard, contracts.CommandsWildcard, "_INBOX.bridge.>", "_INBOX.>"},
	}, {
		role: "bridge",
		may: func(c *conn) {
			c.mustConsume(contracts.StreamCommands, "bridge")
			c.mustPublishJS(contracts.DLQCommands)
		},
		mayNotPublish: []string{
			start,
			event,
			"$JS.API.STREAM.PURGE." + contracts.StreamCommands,
			"$JS.API.CONSUMER.CREATE." + contracts.StreamEvents + ".x",
		},
		mayNotSubscribe: []string{contracts.EventsWildcard},
	}, {
		role:            "order-worker",
		may:             func(c *conn) { c.mustPublishJS(event) },
		mayNotPublish:   []string{start, result, "$JS.API.STREAM.DELETE." + contracts.StreamEvents},
		mayNotSubscribe: []string{contracts.CommandsWildcard},
	}, {
		role:            "shipping-worker",
		may:             func(*conn) {}, // no NATS traffic: it may only connect
		mayNotPublish:   []string{event, start},
		mayNotSubscribe: []string{"orders.>"},
	}, {
		role: "projector",
		may: func(c *conn) {
			c.mustConsume(contracts.StreamEvents, "projector")
			c.mustPublishJS(contracts.DLQEvents)
		},
		mayNotPublish:   []string{event, start, "$JS.API.CONSUMER.CREATE." + contracts.StreamCommands + ".x"},
		mayNotSubscribe: []string{contracts.CommandsWildcard},
	}, {
		role: "command-publisher",
		may: func(c *conn) {
			c.mustPublishJS(contracts.CommandSubject("o-2", contracts.CommandCancel))
			c.mustReceive(result, func() { as("bridge").mustPublishJS(result) })
		},
		mayNotPublish: []string{
			event,
			result,
			contracts.StatusSubject(order),
			"$JS.API.CONSUMER.CREATE." + contracts.StreamCommands + ".x",
		},
		mayNotSubscribe: []string{contracts.CommandsWildcard, contracts.EventsWildcard, "_INBOX.bridge.>"},
	}, {
		role: "event-reader",
		may: func(c *conn) {
			c.mustReceive(event, func() { as("order-worker").mustPublishJS(event) })
			c.mustConsume(contracts.StreamEvents, "warehouse")
		},
		mayNotPublish: []string{
			event,
			start,
			"$JS.API.CONSUMER.DELETE." + contracts.StreamEvents + ".projector",
			"$JS.API.CONSUMER.CREATE." + contracts.StreamEvents + ".projector",
			"$JS.API.CONSUMER.MSG.NEXT." + contracts.StreamEvents + ".projector",
		},
		mayNotSubscribe: []string{contracts.CommandsWildcard, contracts.ResultsWildcard},
	}} {
		t.Run(r.role, func(t *testing.T) {
			c := as(r.role)
			c.t = t
			r.may(c)
			for _, subject := range r.mayNotPublish {
				c.mustRefusePublish(subject)
			}
			for _, subject := range r.mayNotSubscribe {
				c.mustRefuseSubscribe(subject)
			}
		})
	}
}

// A role can also log in with an nkey seed file (NATS_NKEY_SEED_FILE).
func TestNKeyLogin(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "order-worker.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	roles := natsx.Roles("bridge", "projector")
	conf, err := natsx.RenderServerConfig("127.0.0.1:-1", filepath.Join(dir, "js"), roles,
		[]natsx.ServerUser{{Role: "order-worker", NKey: pub}, {Role: "admin", User: "admin", Password: "admin-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	confFile := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(confFile)
	if err != nil {
		t.Fatalf("rendered config: %v\n%s", err, conf)
	}
	url := testenv.EmbeddedNATS(t, opts)
	admin := connectRole(t, url, "admin", config.NATS{User: "admin", Password: "admin-pw"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := natsx.EnsureStreams(ctx, admin.js); err != nil {
		t.Fatal(err)
	}
	c := connectRole(t, url, "order-worker", config.NATS{NKeySeedFile: seedFile})
	c.mustRefusePublish(contracts.CommandSubject("o", contracts.CommandStart))
	c.mustPublishJS(contracts.EventSubject("o", contracts.EventReceived))
}
