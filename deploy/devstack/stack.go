package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/deploy/devstack/stackkit"
	"github.com/orderflow/orderflow/migrations"
	"github.com/orderflow/orderflow/shared/devserver"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/netx"
	"github.com/orderflow/orderflow/shared/pgxx"
)

// services are started in this order and stopped in reverse, so intake (the
// API) stops first and the projector drains last.
var services = []string{"projector", "order-worker", "shipping-worker", "bridge", "api"}

type stack struct {
	cfg Config
	log *slog.Logger

	natsURL string
	dbURL   string
	// natsPasswords holds each role's password when NATS_ROLES is on.
	natsPasswords map[string]string

	sup        *stackkit.Supervisor
	natsServer *natsserver.Server
	privatePG  string // data directory of a private cluster we started
}

// Supervisor runs the children; under RESTART_CHILDREN it starts a child
// that exited again after RESTART_DELAY, as the chaos benchmark needs.
func (s *stack) Supervisor() *stackkit.Supervisor {
	if s.sup == nil {
		s.sup = s.cfg.Supervisor(s.log, s.cfg.StopAfter, childEnviron)
	}
	return s.sup
}

func (s *stack) Start(ctx context.Context) error {
	if err := s.checkPortsFree(); err != nil {
		return err
	}
	if err := s.startTemporal(); err != nil {
		return err
	}
	if err := s.ensureNATS(ctx); err != nil {
		return err
	}
	if err := s.ensurePostgres(ctx); err != nil {
		return err
	}
	if err := migrations.Up(ctx, s.dbURL); err != nil {
		return err
	}
	s.log.Info("migrations applied")
	for _, name := range services {
		if err := s.startService(name); err != nil {
			return err
		}
	}
	return nil
}

// checkPortsFree fails fast when a listener we are about to start is taken,
// for example by another `make run`: waiting for the port would otherwise
// find the other process and wire our services to it.
func (s *stack) checkPortsFree() error {
	listeners := map[string]string{
		"TEMPORAL_PORT":    fmt.Sprintf("127.0.0.1:%d", s.cfg.Temporal.Port),
		"TEMPORAL_UI_PORT": fmt.Sprintf("127.0.0.1:%d", s.cfg.Temporal.UIPort),
		"HTTP_ADDR":        s.cfg.HTTPAddr,
	}
	for _, name := range services {
		if addr := s.cfg.Ops.For(name); addr != "off" {
			listeners[strings.ToUpper(strings.ReplaceAll(name, "-", "_"))+"_OPS_ADDR"] = addr
		}
	}
	return stackkit.CheckPortsFree(listeners)
}

// opsLabel lists the services' /metrics URLs.
func (s *stack) opsLabel() string {
	var parts []string
	for _, name := range services {
		if addr := s.cfg.Ops.For(name); addr != "off" {
			parts = append(parts, fmt.Sprintf("%s http://%s/metrics", name, addr))
		}
	}
	return strings.Join(parts, "\n                   ")
}

// tracingLabel says where spans go: services export over OTLP only when the
// standard OTEL_EXPORTER_OTLP_* variables are set.
func tracingLabel() string {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if v := os.Getenv(k); v != "" && os.Getenv("OTEL_SDK_DISABLED") != "true" {
			return "OTLP to " + v
		}
	}
	return "not exported (set OTEL_EXPORTER_OTLP_ENDPOINT)"
}

func (s *stack) startTemporal() error {
	bin := filepath.Join(s.cfg.BinDir, "temporal")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s missing: run `make tools` first (or `make run`, which builds it)", bin)
	}
	db := filepath.Join(s.cfg.DataDir, "temporal.db")
	httpPort, err := netx.FreePort()
	if err != nil {
		return err
	}
	args := devserver.DevServer{
		Port: s.cfg.Temporal.Port, UIPort: s.cfg.Temporal.UIPort, HTTPPort: httpPort, DBFile: db,
		SQLitePragmas: listSetting(s.cfg.Temporal.SQLitePragmas, devserver.DefaultSQLitePragmas),
		DynamicConfig: listSetting(s.cfg.Temporal.DynamicConfig, devserver.DefaultDynamicConfig),
	}.Args()
	if _, err := s.Supervisor().Spawn("temporal", bin, args, nil); err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", s.cfg.Temporal.Port)
	if err := netx.WaitTCP(addr, 60*time.Second); err != nil {
		return fmt.Errorf("temporal dev server did not come up on %s: %w", addr, err)
	}
	s.log.Info("temporal dev server up", "address", addr, "db", db)
	return nil
}

// ensureNATS uses the server at NATS_URL when it answers and is recent
// enough (natsx.MinServerVersion), otherwise starts an embedded one with
// JetStream: on that URL's port when nothing answers there, on a free port
// when an older server holds it.
func (s *stack) ensureNATS(ctx context.Context) error {
	s.natsURL = s.cfg.NATSURL
	if s.cfg.NATSRoles {
		return s.startNATSWithRoles(ctx)
	}
	nc, err := nats.Connect(s.natsURL, nats.Timeout(2*time.Second))
	var tooOld error
	if err == nil {
		tooOld = natsx.CheckServerVersion(nc)
	}
	switch {
	case err != nil:
		port, perr := natsPort(s.natsURL)
		if perr != nil {
			return perr
		}
		nc, err = s.startEmbeddedNATS(port, err)
	case tooOld != nil:
		nc.Close()
		// The older server keeps its port; the embedded one takes a free one.
		port, perr := netx.FreePort()
		if perr != nil {
			return perr
		}
		nc, err = s.startEmbeddedNATS(port, tooOld)
	default:
		s.log.Info("using NATS", "url", s.natsURL)
	}
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := provisionStreams(ctx, nc); err != nil {
		return err
	}
	s.log.Info("streams ready")
	return nil
}

// startEmbeddedNATS runs a JetStream server in process on port, storing in
// the data directory, makes it the stack's NATS_URL and connects to it;
// reason is why the configured server is not used.
func (s *stack) startEmbeddedNATS(port int, reason error) (*nats.Conn, error) {
	srv, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, NoSigs: true,
		StoreDir: filepath.Join(s.cfg.DataDir, "nats"),
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded nats: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		return nil, errors.New("embedded nats did not become ready")
	}
	s.natsServer = srv
	s.natsURL = srv.ClientURL()
	s.log.Info("started embedded NATS with JetStream", "url", s.natsURL, "reason", reason)
	nc, err := nats.Connect(s.natsURL)
	if err != nil {
		return nil, fmt.Errorf("connect embedded nats: %w", err)
	}
	return nc, nil
}

// startNATSWithRoles runs the shipped role configuration in process with a
// random password per role, and provisions the streams as admin.
func (s *stack) startNATSWithRoles(ctx context.Context) error {
	port, err := natsPort(s.natsURL)
	if err != nil {
		return err
	}
	s.natsPasswords = map[string]string{}
	for _, r := range natsx.Roles("bridge", "projector") {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		s.natsPasswords[r.Name] = hex.EncodeToString(b)
		// The configuration reads each password from the environment.
		if err := os.Setenv(natsx.PasswordVar(r.Name), s.natsPasswords[r.Name]); err != nil {
			return err
		}
	}
	opts, err := natsserver.ProcessConfigFile(s.cfg.NATSConfig)
	// Read: no child may inherit another role's password.
	for role := range s.natsPasswords {
		_ = os.Unsetenv(natsx.PasswordVar(role))
	}
	if err != nil {
		return fmt.Errorf("NATS_SERVER_CONFIG %s: %w", s.cfg.NATSConfig, err)
	}
	opts.Host, opts.Port, opts.NoSigs = "127.0.0.1", port, true
	opts.StoreDir = filepath.Join(s.cfg.DataDir, "nats-roles")
	srv, err := natsserver.NewServer(opts)
	if err != nil {
		return fmt.Errorf("start embedded nats with roles: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("embedded nats with roles did not become ready on port %d (taken? set NATS_URL to a free port)", port)
	}
	s.natsServer = srv
	s.natsURL = srv.ClientURL()
	nc, err := nats.Connect(s.natsURL, nats.UserInfo("admin", s.natsPasswords["admin"]))
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	if err := provisionStreams(ctx, nc); err != nil {
		return err
	}
	s.log.Info("started embedded NATS with least-privilege roles", "url", s.natsURL, "config", s.cfg.NATSConfig)
	return nil
}

// provisionStreams creates or updates the contract's streams through nc
// (natsx.EnsureStreams), then closes nc.
func provisionStreams(ctx context.Context, nc *nats.Conn) error {
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	return natsx.EnsureStreams(ctx, js)
}

// natsPort is the port of NATS_URL, where an embedded server listens:
// NATS's default, 4222, when the URL names none.
func natsPort(natsURL string) (int, error) {
	u, err := url.Parse(natsURL)
	if err != nil {
		return 0, fmt.Errorf("NATS_URL: %w", err)
	}
	port := 4222
	if p := u.Port(); p != "" {
		fmt.Sscan(p, &port)
	}
	return port, nil
}

// natsEnv is the NATS identity of service name: its role's login when
// NATS_ROLES is on.
func (s *stack) natsEnv(name string) []string {
	pw, ok := s.natsPasswords[name]
	if !ok {
		return nil
	}
	return []string{"NATS_USER=" + name, "NATS_PASSWORD=" + pw,
		"NATS_INBOX_PREFIX=" + natsx.Inbox(name), "NATS_PROVISION_STREAMS=false"}
}

// ensurePostgres uses DATABASE_URL's server when it answers (creating the
// database if needed); otherwise it runs a private cluster under the data
// directory with the installed PostgreSQL binaries.
func (s *stack) ensurePostgres(ctx context.Context) error {
	s.dbURL = s.cfg.DBURL
	err := pgxx.CreateDatabase(ctx, s.dbURL)
	if err == nil {
		s.log.Info("using PostgreSQL", "url", stackkit.Redact(s.dbURL))
		return nil
	}
	s.log.Warn("PostgreSQL at DATABASE_URL does not answer; trying a private cluster", "error", err)
	bindir, ferr := findPGBin()
	if ferr != nil {
		return fmt.Errorf("no PostgreSQL: %v, and %w. Install it (apt-get install postgresql) or set DATABASE_URL", err, ferr)
	}
	dir, _ := filepath.Abs(filepath.Join(s.cfg.DataDir, "pg"))
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := chownToPostgres(dir); err != nil {
			return err
		}
		init := pgCommand(filepath.Join(bindir, "initdb"), "-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8")
		if out, err := init.CombinedOutput(); err != nil {
			return fmt.Errorf("initdb: %v: %s", err, out)
		}
	}
	start := pgCommand(filepath.Join(bindir, "pg_ctl"), "-D", dir, "-l", filepath.Join(dir, "server.log"), "-w",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", s.cfg.PGPort, dir), "start")
	if out, err := start.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	s.privatePG = dir
	s.dbURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/orderflow?sslmode=disable", s.cfg.PGPort)
	if err := pgxx.CreateDatabase(ctx, s.dbURL); err != nil {
		return err
	}
	s.log.Info("started private PostgreSQL", "dir", dir, "url", stackkit.Redact(s.dbURL))
	return nil
}

func (s *stack) startService(name string) error {
	bin := filepath.Join(s.cfg.BinDir, name)
	env := []string{
		"NATS_URL=" + s.natsURL,
		"DATABASE_URL=" + s.dbURL,
		fmt.Sprintf("TEMPORAL_ADDRESS=127.0.0.1:%d", s.cfg.Temporal.Port),
		"HTTP_ADDR=" + s.cfg.HTTPAddr,
		"OPS_ADDR=" + s.cfg.Ops.For(name),
	}
	env = append(env, s.natsEnv(name)...)
	env = append(env, s.cfg.FaultEnv()...)
	_, err := s.Supervisor().Spawn(name, bin, nil, env)
	return err
}

// Stop terminates children newest first, then NATS and PostgreSQL.
func (s *stack) Stop() {
	s.Supervisor().Stop()
	if s.natsServer != nil {
		s.natsServer.Shutdown()
		s.natsServer.WaitForShutdown()
		s.log.Info("stopped embedded NATS")
	}
	if s.privatePG != "" {
		bindir, _ := findPGBin()
		_ = pgCommand(filepath.Join(bindir, "pg_ctl"), "-D", s.privatePG, "-m", "fast", "-w", "stop").Run()
		s.log.Info("stopped private PostgreSQL")
	}
}

// childEnviron is this process's environment for a child. The OTEL_*
// variables configure the services' tracing; the Temporal dev server reads
// them too (and refuses some values the SDKs accept), so it does not get them.
func childEnviron(name string) []string {
	if name != "temporal" {
		return os.Environ()
	}
	return stackkit.WithoutOTEL(os.Environ())
}

func findPGBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	return "", errors.New("no PostgreSQL binaries (initdb) installed")
}

// pgCommand runs a PostgreSQL tool; PostgreSQL refuses to run as root, so
// as root it runs as the postgres user.
func pgCommand(bin string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func chownToPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("chown %s to postgres (needed to run PostgreSQL as root): %v: %s", dir, err, out)
	}
	return nil
}
