package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/services/api/api"
	"github.com/orderflow/orderflow/shared/config"
)

// TestConfigFromEnvironment: the defaults serve the seed's port, variables
// override them, and contradictory settings are refused at start.
func TestConfigFromEnvironment(t *testing.T) {
	cfg := defaultConfig(t)
	if cfg.HTTPAddr != ":8000" || cfg.OpsAddr != ":9181" || cfg.BodyLimit != 65536 || cfg.RateLimitMax != 100 || cfg.RateLimitWindow != time.Second ||
		cfg.WaitMax != 30*time.Second || cfg.StatusTimeout != 750*time.Millisecond || cfg.RequestTimeout != 5*time.Second {
		t.Fatalf("defaults %+v", cfg)
	}
	t.Setenv("HTTP_ADDR", "127.0.0.1:9000")
	t.Setenv("RATE_LIMIT_MAX", "0")
	t.Setenv("HTTP_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2")
	t.Setenv("HTTP_PROXY_HEADER", "X-Forwarded-For")
	cfg, err := config.Load[api.Config]()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:9000" || cfg.RateLimitMax != 0 || len(cfg.TrustedProxies) != 2 {
		t.Fatalf("overrides not applied: %+v", cfg)
	}

	for _, tc := range []struct {
		name   string
		mutate func(*api.Config)
		want   string
	}{
		{"tiny body limit", func(c *api.Config) { c.BodyLimit = 10 }, "HTTP_BODY_LIMIT"},
		{"status timeout above request timeout", func(c *api.Config) { c.StatusTimeout = 10 * time.Second }, "STATUS_TIMEOUT"},
		{"write timeout below wait", func(c *api.Config) { c.WriteTimeout = 10 * time.Second }, "HTTP_WRITE_TIMEOUT"},
		{"negative rate limit", func(c *api.Config) { c.RateLimitMax = -1 }, "RATE_LIMIT_MAX"},
		{"zero window", func(c *api.Config) { c.RateLimitWindow = 0 }, "RATE_LIMIT_WINDOW"},
		{"proxy header without trusted proxies", func(c *api.Config) { c.ProxyHeader = "X-Forwarded-For" }, "HTTP_TRUSTED_PROXIES"},
		{"ops listener on the traffic port", func(c *api.Config) { c.OpsAddr = c.HTTPAddr }, "OPS_ADDR"},
		{"no shutdown time", func(c *api.Config) { c.Shutdown.Timeout = 0 }, "SHUTDOWN_TIMEOUT"},
	} {
		c := defaultConfig(t)
		tc.mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}
