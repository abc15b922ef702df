package temporalx_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/config/configtest"
	"github.com/orderflow/orderflow/shared/temporalx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// A client profile (the TOML the Temporal CLI writes) is enough to reach a
// real server: address and namespace come from it.
func TestDialFromClientProfile(t *testing.T) {
	addr := testenv.Temporal(t)
	file := configtest.WriteFile(t, "temporal.toml", fmt.Sprintf("[profile.shop]\naddress = %q\nnamespace = \"default\"\n", addr))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := temporalx.Dial(ctx, config.Temporal{ConfigFile: file, Profile: "shop"}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, nil); err != nil {
		t.Fatalf("health through the profile's address: %v", err)
	}
}

// The profile is the base; the service's own variables win where set, and
// the defaults apply where neither says anything.
func TestClientProfileIsOverriddenBySettings(t *testing.T) {
	file := configtest.WriteFile(t, "temporal.toml", `
[profile.cloud]
address = "shop.a1b2c.tmprl.cloud:7233"
namespace = "shop.a1b2c"
api_key = "from-profile"
[profile.cloud.tls]
server_name = "profile.example"
`)
	opts, err := temporalx.ClientOptions(config.Temporal{ConfigFile: file, Profile: "cloud"}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "shop.a1b2c.tmprl.cloud:7233" || opts.Namespace != "shop.a1b2c" || opts.Credentials == nil ||
		opts.ConnectionOptions.TLS == nil || opts.ConnectionOptions.TLS.ServerName != "profile.example" {
		t.Fatalf("profile not applied: %+v", opts)
	}

	opts, err = temporalx.ClientOptions(config.Temporal{ConfigFile: file, Profile: "cloud",
		Address: "127.0.0.1:7999", TLSServerName: "override.example"}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "127.0.0.1:7999" || opts.Namespace != "shop.a1b2c" || opts.ConnectionOptions.TLS.ServerName != "override.example" {
		t.Fatalf("settings do not override the profile: %+v", opts)
	}

	opts, err = temporalx.ClientOptions(config.Temporal{}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != config.DefaultTemporalAddress || opts.Namespace != config.DefaultTemporalNamespace || opts.ConnectionOptions.TLS != nil {
		t.Fatalf("defaults without a profile: %+v", opts)
	}

	_, err = temporalx.ClientOptions(config.Temporal{ConfigFile: file, Profile: "nope"}, slog.Default())
	if err == nil || !strings.Contains(err.Error(), "profile") {
		t.Fatalf("unknown profile: %v", err)
	}
}
