package api

import (
	"errors"
	"fmt"
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

// AuthEnabled reports whether any credential source is configured.
func (c Config) AuthEnabled() bool {
	return c.APIKeysFile != "" || c.JWKSFile != "" || c.JWKSURL != ""
}

// Validate rejects settings that would make requests fail in confusing
// ways later.
func (c Config) Validate() error {
	switch {
	case c.HTTPAddr == "":
		return errors.New("HTTP_ADDR is empty")
	case c.OpsAddr == c.HTTPAddr:
		return fmt.Errorf("OPS_ADDR and HTTP_ADDR are both %s; give the ops listener its own port", c.HTTPAddr)
	case c.BodyLimit < 1024:
		return fmt.Errorf("HTTP_BODY_LIMIT %d is below 1024 bytes", c.BodyLimit)
	case c.RequestTimeout <= 0 || c.StatusTimeout <= 0:
		return errors.New("HTTP_REQUEST_TIMEOUT and STATUS_TIMEOUT must be positive")
	case c.StatusTimeout >= c.RequestTimeout:
		return fmt.Errorf("STATUS_TIMEOUT %s must be below HTTP_REQUEST_TIMEOUT %s so the projection can still answer", c.StatusTimeout, c.RequestTimeout)
	case c.WaitMax < 0:
		return errors.New("PREFER_WAIT_MAX is negative")
	case c.WriteTimeout > 0 && c.WriteTimeout <= c.WaitMax+c.RequestTimeout:
		return fmt.Errorf("HTTP_WRITE_TIMEOUT %s must exceed PREFER_WAIT_MAX + HTTP_REQUEST_TIMEOUT", c.WriteTimeout)
	case c.RateLimitMax < 0:
		return errors.New("RATE_LIMIT_MAX is negative (0 disables rate limiting)")
	case c.RateLimitMax > 0 && c.RateLimitWindow <= 0:
		return errors.New("RATE_LIMIT_WINDOW must be positive")
	case c.ProxyHeader != "" && len(c.TrustedProxies) == 0:
		return errors.New("HTTP_PROXY_HEADER needs HTTP_TRUSTED_PROXIES, or any client could spoof its IP")
	case c.HeaderLimit < 1024:
		return fmt.Errorf("HTTP_HEADER_LIMIT %d is below 1024 bytes", c.HeaderLimit)
	case c.ReadTimeout <= 0:
		return errors.New("HTTP_READ_TIMEOUT must be positive, or a slow client holds a connection forever")
	case !c.AllowOpen && !c.AuthEnabled():
		return errors.New("API_ALLOW_OPEN=false needs API_KEYS_FILE, JWT_JWKS_FILE or JWT_JWKS_URL")
	case c.JWKSFile != "" && c.JWKSURL != "":
		return errors.New("set JWT_JWKS_FILE or JWT_JWKS_URL, not both")
	case c.AuthEnabled() && c.AuthReload <= 0:
		return errors.New("API_KEYS_RELOAD_INTERVAL must be positive")
	}
	return nil
}
