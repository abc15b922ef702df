package api_test

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/config/configtest"
)

// TestConfigFromEnvironment: the defaults serve the seed's port, variables
// override them, and contradictory settings are refused at start.
func TestConfigFromEnvironment(t *testing.T) {
	def := defaultConfig(t)
	if def.HTTPAddr != ":8000" || def.OpsAddr != ":9181" || def.BodyLimit != 65536 || def.RateLimitMax != 100 || def.RateLimitWindow != time.Second ||
		def.WaitMax != 30*time.Second || def.StatusTimeout != 750*time.Millisecond || def.RequestTimeout != 5*time.Second {
		t.Fatalf("defaults %+v", def)
	}
	configtest.Refuses(t, def, map[string]func(*api.Config){
		"HTTP_BODY_LIMIT":      func(c *api.Config) { c.BodyLimit = 10 },
		"STATUS_TIMEOUT":       func(c *api.Config) { c.StatusTimeout = 10 * time.Second }, // above the request timeout
		"HTTP_WRITE_TIMEOUT":   func(c *api.Config) { c.WriteTimeout = 10 * time.Second },  // below the longest wait
		"RATE_LIMIT_MAX":       func(c *api.Config) { c.RateLimitMax = -1 },
		"RATE_LIMIT_WINDOW":    func(c *api.Config) { c.RateLimitWindow = 0 },
		"HTTP_TRUSTED_PROXIES": func(c *api.Config) { c.ProxyHeader = "X-Forwarded-For" },
		"OPS_ADDR":             func(c *api.Config) { c.OpsAddr = c.HTTPAddr }, // the traffic port
		"SHUTDOWN_TIMEOUT":     func(c *api.Config) { c.Shutdown.Timeout = 0 },
	})

	cfg := configtest.Load[api.Config](t, map[string]string{
		"HTTP_ADDR":            "127.0.0.1:9000",
		"RATE_LIMIT_MAX":       "0",
		"HTTP_TRUSTED_PROXIES": "10.0.0.1,10.0.0.2",
		"HTTP_PROXY_HEADER":    "X-Forwarded-For",
	})
	if cfg.HTTPAddr != "127.0.0.1:9000" || cfg.RateLimitMax != 0 || len(cfg.TrustedProxies) != 2 {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
}
