// Package temporalx dials Temporal with the service's slog logger bridged
// into the SDK, the payload codec and the connection's TLS and API key.
package temporalx

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
)

// DataConverter is the SDK default, wrapped in the payload Codec when
// cfg.CodecKeysFile is set. Dial uses it; code that decodes payloads the
// client hands back raw (memos, history) must use the same one.
func DataConverter(cfg config.Temporal) (converter.DataConverter, error) {
	if cfg.CodecKeysFile == "" {
		return converter.GetDefaultDataConverter(), nil
	}
	codec, err := LoadCodec(cfg.CodecKeysFile)
	if err != nil {
		return nil, err
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec), nil
}

// ClientOptions are the dial options for cfg: the client profile when
// cfg names one (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE: address, namespace,
// TLS, API key, gRPC metadata), then cfg's own settings over it, the data
// converter, TLS (server verification, client certificate) and API key.
func ClientOptions(cfg config.Temporal, log *slog.Logger) (client.Options, error) {
	dc, err := DataConverter(cfg)
	if err != nil {
		return client.Options{}, err
	}
	opts, err := profileOptions(cfg)
	if err != nil {
		return client.Options{}, err
	}
	opts.HostPort = cmp.Or(cfg.Address, opts.HostPort, config.DefaultTemporalAddress)
	opts.Namespace = cmp.Or(cfg.Namespace, opts.Namespace, config.DefaultTemporalNamespace)
	opts.Logger = tlog.NewStructuredLogger(log)
	opts.DataConverter = dc
	if cfg.TLS || cfg.TLSCAFile != "" || cfg.TLSCertFile != "" || cfg.TLSServerName != "" {
		tc := opts.ConnectionOptions.TLS
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if cfg.TLSServerName != "" {
			tc.ServerName = cfg.TLSServerName
		}
		if cfg.TLSCAFile != "" {
			pem, err := os.ReadFile(cfg.TLSCAFile)
			if err != nil {
				return client.Options{}, fmt.Errorf("temporal tls ca: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return client.Options{}, fmt.Errorf("temporal tls ca %s: no PEM certificate", cfg.TLSCAFile)
			}
		}
		if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
			if err != nil {
				return client.Options{}, fmt.Errorf("temporal tls client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts.ConnectionOptions.TLS = tc
		opts.ConnectionOptions.TLSDisabled = false
	}
	if cfg.APIKeyFile != "" {
		key, err := os.ReadFile(cfg.APIKeyFile)
		if err != nil {
			return client.Options{}, fmt.Errorf("temporal api key: %w", err)
		}
		opts.Credentials = client.NewAPIKeyStaticCredentials(strings.TrimSpace(string(key)))
	}
	return opts, nil
}

// profileOptions loads the client profile cfg names, or nothing. The
// profile's own environment overrides are off: config.Load has read the
// environment already, and cfg's values are applied over the profile.
func profileOptions(cfg config.Temporal) (client.Options, error) {
	if cfg.ConfigFile == "" && cfg.Profile == "" {
		return client.Options{}, nil
	}
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{
		ConfigFilePath:    cfg.ConfigFile,
		ConfigFileProfile: cfg.Profile,
		ConfigFileStrict:  true,
		DisableEnv:        true,
	})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client profile: %w", err)
	}
	opts, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client profile: %w", err)
	}
	return opts, nil
}

// Option adjusts the client options Dial uses.
type Option func(*client.Options)

// WithMetrics reports the SDK's metrics (workflow and activity attempts,
// failures, latencies) to h, e.g. ops.Telemetry.TemporalMetrics().
func WithMetrics(h client.MetricsHandler) Option {
	return func(o *client.Options) { o.MetricsHandler = h }
}

// Dial connects to Temporal, retrying until ctx ends so a service started
// before the dev server is up waits for it instead of exiting. The client
// carries the OpenTelemetry tracing interceptor (global tracer provider and
// W3C propagator), which workers created from it inherit: a workflow start
// or signal joins the caller's trace, and workflow and activity spans follow.
// ClientOptions adds the payload codec, TLS and API key from cfg.
func Dial(ctx context.Context, cfg config.Temporal, log *slog.Logger, options ...Option) (client.Client, error) {
	tracing, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	opts, err := ClientOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	opts.Interceptors = []interceptor.ClientInterceptor{tracing}
	for _, o := range options {
		o(&opts)
	}
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		log.Warn("temporal not reachable yet", "address", opts.HostPort, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("dial temporal at %s: %w", opts.HostPort, err)
		case <-time.After(time.Second):
		}
	}
}

// DefaultSQLitePragmas make the dev server's single SQLite connection
// commit faster: WAL journaling with normal syncs. BENCHMARKS.md measures
// their effect; durability against power loss is not a goal of a dev server.
var DefaultSQLitePragmas = []string{"journal_mode=wal", "synchronous=normal"}

// DefaultDynamicConfig tunes the single-shard dev server for latency
// (BENCHMARKS.md measures each):
//   - timerProcessorMaxTimeShift: no timer is scheduled earlier than now plus
//     this shift (1 s by default, a guard against clock skew between hosts),
//     so the 500 ms auto-approval timer fired after about 1 s. One process
//     has no skew to guard against.
//   - transfer/timerProcessorMaxPollRPS: each queue reader polls at most 20
//     times a second per shard (one shard here), so under load every task
//     dispatch, child start and timer waited up to 50 ms for its poll.
var DefaultDynamicConfig = []string{
	`history.timerProcessorMaxTimeShift="10ms"`,
	"history.transferProcessorMaxPollRPS=1000",
	"history.timerProcessorMaxPollRPS=1000",
	// Eager activities: the activity a workflow task schedules goes back to
	// the worker with the task's completion, without a matching round trip.
	"system.enableActivityEagerExecution=true",
}

// DevServer describes a Temporal dev server process.
type DevServer struct {
	Port, UIPort, HTTPPort int
	DBFile                 string
	Headless               bool     // no Web UI
	SQLitePragmas          []string // e.g. DefaultSQLitePragmas; nil keeps SQLite's defaults
	DynamicConfig          []string // key=JSON value, e.g. DefaultDynamicConfig
}

// Args are the `temporal server start-dev` flags for d.
func (d DevServer) Args() []string {
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", fmt.Sprint(d.Port),
		"--http-port", fmt.Sprint(d.HTTPPort),
		"--metrics-port", "0",
		"--db-filename", d.DBFile,
		"--log-level", "warn",
		// OrderWorkflow upserts these; an unregistered one fails its task.
		"--search-attribute", contracts.SearchAttrOrderState + "=Keyword",
		"--search-attribute", contracts.SearchAttrOrderStep + "=Keyword",
	}
	for _, p := range d.SQLitePragmas {
		args = append(args, "--sqlite-pragma", p)
	}
	for _, v := range d.DynamicConfig {
		args = append(args, "--dynamic-config-value", v)
	}
	if d.Headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", fmt.Sprint(d.UIPort))
	}
	return args
}
