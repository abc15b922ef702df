// Package config loads a service's configuration from the environment, once,
// in main (config.go). Each service declares one struct; the shared pieces
// below are embedded so a variable means the same thing in every service,
// and each piece validates itself (validate.go, with Problems, which every
// service's Validate reports through).
package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// FileSuffix marks a variable that names a file holding another variable's
// value: DATABASE_URL_FILE=/run/secrets/db sets DATABASE_URL, so secrets can
// come from mounted files (Docker and Kubernetes secrets) instead of the
// process environment.
const FileSuffix = "_FILE"

// Load fills T from the environment, applying `envDefault` tags, and runs
// T's Validate method when it has one. Every variable T declares may instead
// be given as <NAME>_FILE (see FileSuffix); setting both is an error.
func Load[T any]() (T, error) {
	var cfg T
	environ, err := withFileValues(&cfg, os.Environ())
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: environ}); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if v, ok := any(&cfg).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
	}
	return cfg, nil
}

// withFileValues is environ as a map, with the value of every variable cfg
// declares read from its <NAME>_FILE when that is set. One trailing newline
// is dropped, as files written by editors and `echo` end with one.
func withFileValues(cfg any, environ []string) (map[string]string, error) {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	params, err := env.GetFieldParams(cfg)
	if err != nil {
		return nil, err
	}
	for _, p := range params {
		path, ok := vars[p.Key+FileSuffix]
		if !ok {
			continue
		}
		if _, both := vars[p.Key]; both {
			return nil, fmt.Errorf("set %s or %s%s, not both", p.Key, p.Key, FileSuffix)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", p.Key, FileSuffix, err)
		}
		v := strings.TrimSuffix(string(b), "\n")
		vars[p.Key] = strings.TrimSuffix(v, "\r")
	}
	return vars, nil
}

// Log configures log/slog.
type Log struct {
	Level  slog.Level `env:"LOG_LEVEL" envDefault:"info"`
	Format string     `env:"LOG_FORMAT" envDefault:"text"` // text or json
}

// LogSettings is l itself: a service's Config, which embeds Log, hands it
// to app.Run this way.
func (l Log) LogSettings() Log { return l }

// NATS locates the broker and says who the service is to it. Give at most
// one of Creds, NKeySeedFile or User (with Password); see natsx.Options.
type NATS struct {
	URL          string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	Creds        string `env:"NATS_CREDS"`          // credentials file (JWT + nkey seed), operator mode
	NKeySeedFile string `env:"NATS_NKEY_SEED_FILE"` // nkey user seed file
	User         string `env:"NATS_USER"`
	Password     string `env:"NATS_PASSWORD"`
	TLSCAFile    string `env:"NATS_TLS_CA_FILE"`
	TLSCertFile  string `env:"NATS_TLS_CERT_FILE"` // client certificate, when the server verifies clients
	TLSKeyFile   string `env:"NATS_TLS_KEY_FILE"`
	// InboxPrefix is where replies to this service's requests arrive. A
	// role-restricted user may only subscribe to its own prefix
	// (_INBOX.<role>), so no service can read another's replies.
	InboxPrefix string `env:"NATS_INBOX_PREFIX" envDefault:"_INBOX"`
	// ProvisionStreams makes a service create or update the contract's
	// streams at start, at their default settings (one replica). Off, the
	// default, it only checks that its streams exist, waiting for them:
	// streams are provisioned by an operator (`orderflow streams
	// provision`, the run commands, the Helm chart's Job) with the cluster's
	// replicas and limits, which a service must not undo.
	ProvisionStreams bool `env:"NATS_PROVISION_STREAMS" envDefault:"false"`
}

// Streams are the JetStream streams' replicas and limits, read by whoever
// provisions the streams (`orderflow streams provision`, the run commands).
// The limit maps are keyed by stream name (ORDER_EVENTS:720h,ORDER_DLQ:0s);
// a stream left out keeps the contract's value (natsx.StreamConfigs).
type Streams struct {
	// Replicas of every stream: 1 on a single server, 3 on a cluster.
	Replicas int `env:"NATS_STREAM_REPLICAS" envDefault:"1"`
	// MaxAge drops messages older than this; 0 keeps them forever.
	MaxAge map[string]time.Duration `env:"NATS_STREAM_MAX_AGE"`
	// MaxBytes drops the oldest messages past this size; -1 is no limit.
	MaxBytes map[string]int64 `env:"NATS_STREAM_MAX_BYTES"`
	// Duplicates is the deduplication window on Nats-Msg-Id.
	Duplicates map[string]time.Duration `env:"NATS_STREAM_DUPLICATE_WINDOW"`
}

// Postgres locates the database.
type Postgres struct {
	URL      string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/orderflow?sslmode=disable"`
	MaxConns int32  `env:"DATABASE_MAX_CONNS" envDefault:"10"`
}

// Defaults of Temporal.Address and Temporal.Namespace, when neither the
// variable nor a client profile gives one.
const (
	DefaultTemporalAddress   = "127.0.0.1:7233"
	DefaultTemporalNamespace = "default"
)

// Temporal locates the Temporal frontend and the task queues.
type Temporal struct {
	// Address and Namespace: the variable, else the client profile's value,
	// else DefaultTemporalAddress / DefaultTemporalNamespace (see
	// temporalx.ClientOptions and NamespaceName).
	Address   string `env:"TEMPORAL_ADDRESS"`
	Namespace string `env:"TEMPORAL_NAMESPACE"`
	// ConfigFile and Profile load a client profile, the TOML file the
	// Temporal CLI and SDKs share (`temporal config set ...`), as the base of
	// the connection settings; the variables here override it.
	ConfigFile        string `env:"TEMPORAL_CONFIG_FILE"`
	Profile           string `env:"TEMPORAL_PROFILE"`
	OrdersTaskQueue   string `env:"ORDERS_TASK_QUEUE" envDefault:"orders-tq"`
	ShippingTaskQueue string `env:"SHIPPING_TASK_QUEUE" envDefault:"shipping-tq"`

	// CodecKeysFile turns on payload encryption (temporalx.Codec): every
	// workflow input, result, signal, query answer and memo is sealed with
	// AES-GCM before it reaches the Temporal server.
	CodecKeysFile string `env:"TEMPORAL_CODEC_KEYS_FILE"`
	// TLS: a CA file alone verifies the server; cert and key add a client
	// certificate (mTLS). APIKeyFile sends its content as a bearer API key
	// (Temporal Cloud, or a server with an authorizer).
	TLSCAFile     string `env:"TEMPORAL_TLS_CA_FILE"`
	TLSCertFile   string `env:"TEMPORAL_TLS_CERT_FILE"`
	TLSKeyFile    string `env:"TEMPORAL_TLS_KEY_FILE"`
	TLSServerName string `env:"TEMPORAL_TLS_SERVER_NAME"`
	TLS           bool   `env:"TEMPORAL_TLS"` // TLS with the system roots, when no file is given
	APIKeyFile    string `env:"TEMPORAL_API_KEY_FILE"`
}

// NamespaceName is Namespace or, unset, the default namespace.
func (t Temporal) NamespaceName() string {
	if t.Namespace == "" {
		return DefaultTemporalNamespace
	}
	return t.Namespace
}

// Shutdown bounds graceful shutdown.
type Shutdown struct {
	Timeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
}

// ShutdownSettings is s itself: a service's Config, which embeds Shutdown,
// hands it to app.Run this way.
func (s Shutdown) ShutdownSettings() Shutdown { return s }
