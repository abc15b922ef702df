package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/orderflow/orderflow/deploy/devstack/stackkit"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/devserver"
	"github.com/orderflow/orderflow/shared/netx"
	"github.com/orderflow/orderflow/shared/pgxx"
)

var (
	//go:embed temporal.yaml.tmpl
	temporalTmpl string
	//go:embed ui.yaml.tmpl
	uiTmpl string
)

// temporalLog is the server's log file: at start its membership ring logs
// errors until every role has joined, which would drown the services' lines.
func (s *stack) temporalLog() string {
	dir, _ := filepath.Abs(filepath.Join(s.cfg.DataDir, "temporal"))
	return filepath.Join(dir, "server.log")
}

// temporalPorts are the server's listeners, derived from TEMPORAL_PORT.
type temporalPorts struct {
	base, http, metrics int
}

func (s *stack) temporalPorts() temporalPorts {
	p := s.cfg.Temporal.Port
	return temporalPorts{base: p, http: p + 4, metrics: p + 5}
}

// ServicePort is the gRPC port of service i (0 frontend, 1 history, 2
// matching, 3 worker); MembershipPort its ringpop port.
func (t temporalPorts) ServicePort(i int) int    { return t.base + i }
func (t temporalPorts) MembershipPort(i int) int { return t.base + 100 + i }

func (t temporalPorts) listeners() map[string]string {
	l := map[string]string{}
	for i, svc := range []string{"frontend", "history", "matching", "worker"} {
		l["TEMPORAL_PORT ("+svc+")"] = fmt.Sprintf("127.0.0.1:%d", t.ServicePort(i))
		l["TEMPORAL_PORT ("+svc+" membership)"] = fmt.Sprintf("127.0.0.1:%d", t.MembershipPort(i))
	}
	l["TEMPORAL_PORT (frontend HTTP)"] = fmt.Sprintf("127.0.0.1:%d", t.http)
	l["TEMPORAL_PORT (metrics)"] = fmt.Sprintf("127.0.0.1:%d", t.metrics)
	return l
}

// sqlStore is one PostgreSQL database of the server, from its URL.
type sqlStore struct {
	URL, Addr, Host, Port, User, Password, Database string
	TLS, VerifyHost                                 bool
	CAFile                                          string
}

func parseStore(raw string) (sqlStore, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return sqlStore{}, err
	}
	st := sqlStore{URL: raw, Host: u.Hostname(), Port: u.Port(), User: u.User.Username(),
		Database: strings.TrimPrefix(u.Path, "/")}
	st.Password, _ = u.User.Password()
	if st.Port == "" {
		st.Port = "5432"
	}
	st.Addr = st.Host + ":" + st.Port
	if st.Database == "" || st.User == "" {
		return st, fmt.Errorf("%s: want postgres://user@host:port/database", stackkit.Redact(raw))
	}
	switch mode := u.Query().Get("sslmode"); mode {
	case "disable":
	case "verify-full":
		st.TLS, st.VerifyHost = true, true
	default:
		st.TLS = true
	}
	st.CAFile = u.Query().Get("sslrootcert")
	return st, nil
}

// sqlToolArgs are temporal-sql-tool's connection flags for st.
func (st sqlStore) sqlToolArgs() []string {
	args := []string{"--plugin", "postgres12", "--endpoint", st.Host, "--port", st.Port,
		"--user", st.User, "--db", st.Database}
	if st.Password != "" {
		args = append(args, "--password", st.Password)
	}
	if st.TLS {
		args = append(args, "--tls")
		if !st.VerifyHost {
			args = append(args, "--tls-disable-host-verification")
		}
		if st.CAFile != "" {
			args = append(args, "--tls-ca-file", st.CAFile)
		}
	}
	return args
}

// migrateTemporalDB creates st's database and brings its schema to the
// newest version embedded in the SQL tool: setup-schema once (it would
// reset the recorded version), update-schema every time (a no-op when
// current).
func (s *stack) migrateTemporalDB(ctx context.Context, st sqlStore, schema string) error {
	if err := pgxx.CreateDatabase(ctx, st.URL); err != nil {
		return fmt.Errorf("temporal database %s: %w", st.Database, err)
	}
	versioned, err := hasTable(ctx, st.URL, "schema_version")
	if err != nil {
		return err
	}
	tool := filepath.Join(s.cfg.BinDir, "temporal-sql-tool")
	if !versioned {
		if err := s.runOnce(ctx, "sql-tool", tool, append(st.sqlToolArgs(), "setup-schema", "-v", "0.0"), nil, true); err != nil {
			return err
		}
	}
	return s.runOnce(ctx, "sql-tool", tool, append(st.sqlToolArgs(), "update-schema", "--schema-name", schema), nil, true)
}

func hasTable(ctx context.Context, dbURL, table string) (bool, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var found bool
	err = conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&found)
	return found, err
}

// checkShards refuses a shard count different from the one the database
// was created with: Temporal cannot change it, and would not start.
func (s *stack) checkShards() error {
	file := filepath.Join(s.cfg.DataDir, "temporal", "history-shards")
	want := strconv.Itoa(s.cfg.Temporal.HistoryShards)
	if b, err := os.ReadFile(file); err == nil && strings.TrimSpace(string(b)) != want {
		return fmt.Errorf("TEMPORAL_HISTORY_SHARDS is %s but Temporal's database was created with %s: the count is fixed for a database's life; run with RESET=true to start afresh",
			want, strings.TrimSpace(string(b)))
	}
	return os.WriteFile(file, []byte(want+"\n"), 0o644)
}

// dynamicConfigYAML renders key=JSON entries as the server's dynamic config
// file; JSON values are YAML values.
func dynamicConfigYAML(entries []string) (string, error) {
	var b strings.Builder
	for _, e := range entries {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			return "", fmt.Errorf("TEMPORAL_DYNAMIC_CONFIG entry %q: want key=JSON", e)
		}
		fmt.Fprintf(&b, "%s:\n  - value: %s\n", strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return b.String(), nil
}

// writeTemporalConfig renders the server's configuration and dynamic
// configuration under the data directory.
func (s *stack) writeTemporalConfig(persistence, visibility sqlStore) (string, error) {
	dir, err := filepath.Abs(filepath.Join(s.cfg.DataDir, "temporal"))
	if err != nil {
		return "", err
	}
	dc := s.cfg.Temporal.DynamicConfig
	switch {
	case len(dc) == 0:
		dc = devserver.DefaultDynamicConfig
	case len(dc) == 1 && dc[0] == "none":
		dc = nil
	}
	dyn, err := dynamicConfigYAML(dc)
	if err != nil {
		return "", err
	}
	dynFile := filepath.Join(dir, "dynamicconfig.yaml")
	if err := os.WriteFile(dynFile, []byte("# Generated by deploy/prodstack (TEMPORAL_DYNAMIC_CONFIG).\n"+dyn), 0o644); err != nil {
		return "", err
	}
	tmpl, err := template.New("temporal").Parse(temporalTmpl)
	if err != nil {
		return "", err
	}
	ports := s.temporalPorts()
	level := "warn"
	if s.cfg.Log.Level.String() == "DEBUG" {
		level = "info"
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, struct {
		temporalPorts
		Port, HTTPPort, MetricsPort, HistoryShards int
		LogLevel, LogFile, DynamicConfigFile       string
		Persistence, Visibility                    sqlStore
	}{ports, ports.base, ports.http, ports.metrics, s.cfg.Temporal.HistoryShards, level, s.temporalLog(), dynFile,
		persistence, visibility}); err != nil {
		return "", err
	}
	file := filepath.Join(dir, "config.yaml")
	return file, os.WriteFile(file, b.Bytes(), 0o600) // it may hold database passwords
}

// startTemporal prepares both databases, starts the server and makes the
// namespace and search attributes the workflows use.
func (s *stack) startTemporal(ctx context.Context) error {
	for _, b := range []string{"temporal-server", "temporal-sql-tool"} {
		if _, err := os.Stat(filepath.Join(s.cfg.BinDir, b)); err != nil {
			return fmt.Errorf("%s missing: run `make .bin/%s` (or `make run-prod`, which builds it)", filepath.Join(s.cfg.BinDir, b), b)
		}
	}
	persistence, err := parseStore(s.cfg.Temporal.PersistenceURL)
	if err != nil {
		return fmt.Errorf("TEMPORAL_PERSISTENCE_URL: %w", err)
	}
	visibility, err := parseStore(s.cfg.Temporal.VisibilityURL)
	if err != nil {
		return fmt.Errorf("TEMPORAL_VISIBILITY_URL: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(s.cfg.DataDir, "temporal"), 0o755); err != nil {
		return err
	}
	if err := s.checkShards(); err != nil {
		return err
	}
	if err := s.migrateTemporalDB(ctx, persistence, "postgresql/v12/temporal"); err != nil {
		return err
	}
	if err := s.migrateTemporalDB(ctx, visibility, "postgresql/v12/visibility"); err != nil {
		return err
	}
	s.log.Info("temporal databases ready", "persistence", persistence.Database, "visibility", visibility.Database)
	file, err := s.writeTemporalConfig(persistence, visibility)
	if err != nil {
		return fmt.Errorf("temporal configuration: %w", err)
	}
	if _, err := s.sup.Spawn("temporal-server", filepath.Join(s.cfg.BinDir, "temporal-server"),
		[]string{"--config-file", file, "--allow-no-auth", "start"}, nil); err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", s.cfg.Temporal.Port)
	if err := netx.WaitTCPOrExit(ctx, addr, 90*time.Second, s.sup.Exited()); err != nil {
		return fmt.Errorf("temporal server did not come up on %s: %w\nlast lines of %s:\n%s", addr, err, s.temporalLog(), tail(s.temporalLog(), 15))
	}
	if err := s.setupNamespace(ctx, addr); err != nil {
		return err
	}
	s.log.Info("temporal server up", "address", addr, "history_shards", s.cfg.Temporal.HistoryShards)
	return nil
}

// quietLogger drops the SDK's logs: setupNamespace reports what matters.
var quietLogger = tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))

// setupNamespace registers the namespace and the search attributes the
// workflows upsert (an unregistered one fails the workflow task), then
// waits until the frontend's caches know both.
func (s *stack) setupNamespace(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	ns := "default"
	var c client.Client
	var err error
	for c == nil {
		if c, err = client.DialContext(ctx, client.Options{HostPort: addr, Namespace: ns, Logger: quietLogger}); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("temporal server at %s: %w", addr, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	defer c.Close()
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(s.cfg.Temporal.Retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", ns, err)
	}
	want := map[string]enums.IndexedValueType{
		contracts.SearchAttrOrderState: enums.INDEXED_VALUE_TYPE_KEYWORD,
		contracts.SearchAttrOrderStep:  enums.INDEXED_VALUE_TYPE_KEYWORD,
	}
	for {
		err = addSearchAttributes(ctx, c, ns, want)
		if err == nil {
			// A visibility query on the attributes goes through the
			// frontend's namespace and search attribute caches.
			_, err = c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
				Namespace: ns, Query: contracts.SearchAttrOrderState + " = 'x' AND " + contracts.SearchAttrOrderStep + " = 'x'",
			})
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("namespace %s with search attributes not ready: %w", ns, err)
		}
		s.log.Debug("waiting for namespace", "error", err)
		time.Sleep(time.Second)
	}
}

func addSearchAttributes(ctx context.Context, c client.Client, ns string, want map[string]enums.IndexedValueType) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return err
	}
	missing := map[string]enums.IndexedValueType{}
	for name, typ := range want {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ns, SearchAttributes: missing,
	})
	return err
}

// startUI runs the Temporal UI server (github.com/temporalio/ui-server,
// its assets embedded) against the server, when it is built.
func (s *stack) startUI() error {
	bin := filepath.Join(s.cfg.BinDir, "temporal-ui")
	if !s.cfg.Temporal.UI {
		return nil
	}
	if _, err := os.Stat(bin); err != nil {
		s.log.Warn("no Temporal UI: run `make .bin/temporal-ui`", "missing", bin)
		return nil
	}
	dir, err := filepath.Abs(filepath.Join(s.cfg.DataDir, "temporal-ui"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmpl, err := template.New("ui").Parse(uiTmpl)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]int{"GRPCPort": s.cfg.Temporal.Port, "Port": s.cfg.Temporal.UIPort}); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "prod.yaml"), b.Bytes(), 0o644); err != nil {
		return err
	}
	if _, err := s.sup.Spawn("temporal-ui", bin, []string{"--root", dir, "--config", ".", "--env", "prod", "start"}, nil); err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", s.cfg.Temporal.UIPort)
	if err := netx.WaitTCPOrExit(context.Background(), addr, 30*time.Second, s.sup.Exited()); err != nil {
		return fmt.Errorf("temporal UI did not come up on %s: %w", addr, err)
	}
	s.uiRunning = true
	return nil
}
