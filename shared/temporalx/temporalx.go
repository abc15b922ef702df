// Package temporalx owns the Temporal client side every process shares:
// dialling with the service's slog logger bridged into the SDK, the client
// profile, TLS and API key (temporalx.go), the payload codec that encrypts
// what reaches the server (codec.go), and the one set of start options of
// OrderWorkflow (OrderStartOptions) used by the bridge and the benchmark,
// and the lifecycle of a worker on a task queue (worker.go, RunWorker).
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

	enumspb "go.temporal.io/api/enums/v1"
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

// OrderStartOptions are the options of every OrderWorkflow start (the
// bridge, the benchmark's direct arm). The workflow ID is derived from the
// order and may never be reused, so Temporal, not the caller, refuses a
// second start of an order even long after JetStream's deduplication
// window; the memo lets the bridge tell a duplicate start from a
// conflicting one without a query.
func OrderStartOptions(in contracts.OrderInput, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                                       contracts.OrderWorkflowID(in.OrderID),
		TaskQueue:                                taskQueue,
		Memo:                                     map[string]any{contracts.MemoPaymentID: in.PaymentID, contracts.MemoOwner: in.Owner},
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowTaskTimeout:                      contracts.OrderWorkflowTaskTimeout,
	}
}
