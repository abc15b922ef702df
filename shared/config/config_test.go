package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/shared/config"
)

type testConfig struct {
	config.Postgres
	config.NATS
	KeysFile string `env:"TEST_KEYS_FILE"`
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretsComeFromFiles(t *testing.T) {
	t.Setenv("DATABASE_URL_FILE", writeFile(t, "postgres://app:s3cret@db:5432/orderflow?sslmode=verify-full\n"))
	t.Setenv("NATS_PASSWORD_FILE", writeFile(t, "hunter2\r\n"))
	// A variable whose own name ends in _FILE is still a plain path.
	t.Setenv("TEST_KEYS_FILE", "/etc/keys.json")
	cfg, err := config.Load[testConfig]()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Postgres.URL != "postgres://app:s3cret@db:5432/orderflow?sslmode=verify-full" {
		t.Fatalf("DATABASE_URL from file: %q", cfg.Postgres.URL)
	}
	if cfg.NATS.Password != "hunter2" {
		t.Fatalf("NATS_PASSWORD from file: %q", cfg.NATS.Password)
	}
	if cfg.KeysFile != "/etc/keys.json" || cfg.NATS.URL != "nats://127.0.0.1:4222" {
		t.Fatalf("other variables changed: %+v", cfg)
	}
}

func TestSecretFileMistakesAreRefused(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"both set", map[string]string{"DATABASE_URL": "postgres://x", "DATABASE_URL_FILE": writeFile(t, "postgres://y")}, "not both"},
		{"missing file", map[string]string{"NATS_PASSWORD_FILE": filepath.Join(t.TempDir(), "absent")}, "NATS_PASSWORD_FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			_, err := config.Load[testConfig]()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}
