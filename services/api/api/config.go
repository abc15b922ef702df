package api

import (
	"time"

	"github.com/orderflow/orderflow/shared/config"
)

// Config is the API's whole configuration, loaded once with config.Load.
type Config struct {
	config.Log
	config.NATS
	config.Postgres
	config.Shutdown

	HTTPAddr        string        `env:"HTTP_ADDR" envDefault:":8000"`
	BodyLimit       int           `env:"HTTP_BODY_LIMIT" envDefault:"65536"`
	ReadTimeout     time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"10s"`
	WriteTimeout    time.Duration `env:"HTTP_WRITE_TIMEOUT" envDefault:"45s"`
	IdleTimeout     time.Duration `env:"HTTP_IDLE_TIMEOUT" envDefault:"60s"`
	RequestTimeout  time.Duration `env:"HTTP_REQUEST_TIMEOUT" envDefault:"5s"`
	WaitMax         time.Duration `env:"PREFER_WAIT_MAX" envDefault:"30s"`
	StatusTimeout   time.Duration `env:"STATUS_TIMEOUT" envDefault:"750ms"`
	RateLimitMax    int           `env:"RATE_LIMIT_MAX" envDefault:"100"`
	RateLimitWindow time.Duration `env:"RATE_LIMIT_WINDOW" envDefault:"1s"`
	ProxyHeader     string        `env:"HTTP_PROXY_HEADER"`
	TrustedProxies  []string      `env:"HTTP_TRUSTED_PROXIES"`
	// OpsAddr serves /metrics, /livez and /readyz; "off" disables it.
	OpsAddr     string `env:"OPS_ADDR" envDefault:":9181"`
	HeaderLimit int    `env:"HTTP_HEADER_LIMIT" envDefault:"8192"`

	// Authentication: API keys, JWTs, or both; neither leaves the API open.
	APIKeysFile   string        `env:"API_KEYS_FILE"`
	AuthReload    time.Duration `env:"API_KEYS_RELOAD_INTERVAL" envDefault:"2s"`
	JWKSFile      string        `env:"JWT_JWKS_FILE"`
	JWKSURL       string        `env:"JWT_JWKS_URL"`
	JWTIssuer     string        `env:"JWT_ISSUER"`
	JWTAudience   string        `env:"JWT_AUDIENCE"`
	AllowOpen     bool          `env:"API_ALLOW_OPEN" envDefault:"true"`
	CodecKeysFile string        `env:"TEMPORAL_CODEC_KEYS_FILE"`
	CodecCORS     []string      `env:"CODEC_CORS_ORIGINS"`
}

// OpsAddress is OpsAddr, for app.Run.
func (c Config) OpsAddress() string { return c.OpsAddr }

// AuthEnabled reports whether any credential source is configured.
func (c Config) AuthEnabled() bool {
	return c.APIKeysFile != "" || c.JWKSFile != "" || c.JWKSURL != ""
}

// Validate rejects settings that would make requests fail in confusing
// ways later.
func (c Config) Validate() error {
	var p config.Problems
	p.Add(c.Shutdown.Validate())
	p.Check(c.HTTPAddr != "", "HTTP_ADDR is empty")
	p.Check(c.OpsAddr != c.HTTPAddr, "OPS_ADDR and HTTP_ADDR are both %s; give the ops listener its own port", c.HTTPAddr)
	p.Check(c.BodyLimit >= 1024, "HTTP_BODY_LIMIT %d is below 1024 bytes", c.BodyLimit)
	p.Check(c.RequestTimeout > 0 && c.StatusTimeout > 0, "HTTP_REQUEST_TIMEOUT and STATUS_TIMEOUT must be positive")
	p.Check(c.StatusTimeout < c.RequestTimeout, "STATUS_TIMEOUT %s must be below HTTP_REQUEST_TIMEOUT %s so the projection can still answer", c.StatusTimeout, c.RequestTimeout)
	p.Check(c.WaitMax >= 0, "PREFER_WAIT_MAX is negative")
	p.Check(c.WriteTimeout <= 0 || c.WriteTimeout > c.WaitMax+c.RequestTimeout, "HTTP_WRITE_TIMEOUT %s must exceed PREFER_WAIT_MAX + HTTP_REQUEST_TIMEOUT", c.WriteTimeout)
	p.Check(c.RateLimitMax >= 0, "RATE_LIMIT_MAX is negative (0 disables rate limiting)")
	p.Check(c.RateLimitMax <= 0 || c.RateLimitWindow > 0, "RATE_LIMIT_WINDOW must be positive")
	p.Check(c.ProxyHeader == "" || len(c.TrustedProxies) > 0, "HTTP_PROXY_HEADER needs HTTP_TRUSTED_PROXIES, or any client could spoof its IP")
	p.Check(c.HeaderLimit >= 1024, "HTTP_HEADER_LIMIT %d is below 1024 bytes", c.HeaderLimit)
	p.Check(c.ReadTimeout > 0, "HTTP_READ_TIMEOUT must be positive, or a slow client holds a connection forever")
	p.Check(c.AllowOpen || c.AuthEnabled(), "API_ALLOW_OPEN=false needs API_KEYS_FILE, JWT_JWKS_FILE or JWT_JWKS_URL")
	p.Check(c.JWKSFile == "" || c.JWKSURL == "", "set JWT_JWKS_FILE or JWT_JWKS_URL, not both")
	p.Check(!c.AuthEnabled() || c.AuthReload > 0, "API_KEYS_RELOAD_INTERVAL must be positive")
	return p.Err()
}
