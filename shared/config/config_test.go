package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/config/configtest"
	"github.com/orderflow/orderflow/shared/contracts"
)

type testConfig struct {
	config.Postgres
	config.NATS
	KeysFile string `env:"TEST_KEYS_FILE"`
}

func TestSecretsComeFromFiles(t *testing.T) {
	t.Setenv("DATABASE_URL_FILE", configtest.WriteFile(t, "secret", "postgres://app:s3cret@db:5432/orderflow?sslmode=verify-full\n"))
	t.Setenv("NATS_PASSWORD_FILE", configtest.WriteFile(t, "secret", "hunter2\r\n"))
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
		{"both set", map[string]string{"DATABASE_URL": "postgres://x", "DATABASE_URL_FILE": configtest.WriteFile(t, "secret", "postgres://y")}, "not both"},
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

// TestSharedPiecesNameEveryMistake: the embedded pieces' Validate names the
// variable at fault, and Problems reports every mistake at once.
func TestSharedPiecesNameEveryMistake(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want []string
	}{
		{"two NATS identities", config.NATS{User: "u", Creds: "/c"}.Validate(), []string{"NATS_CREDS"}},
		{"one NATS identity", config.NATS{User: "u"}.Validate(), nil},
		{"empty pool", config.Postgres{URL: "postgres://x", MaxConns: 0}.Validate(), []string{"DATABASE_MAX_CONNS"}},
		{"URL from PG* variables", config.Postgres{MaxConns: 1}.Validate(), nil},
		{"no task queues", config.Temporal{}.Validate(), []string{"ORDERS_TASK_QUEUE", "SHIPPING_TASK_QUEUE"}},
		{"no shutdown time", config.Shutdown{}.Validate(), []string{"SHUTDOWN_TIMEOUT"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.want == nil {
				if c.err != nil {
					t.Fatalf("Validate() = %v, want nil", c.err)
				}
				return
			}
			for _, w := range c.want {
				if c.err == nil || !strings.Contains(c.err.Error(), w) {
					t.Fatalf("Validate() = %v, want an error naming %s", c.err, w)
				}
			}
		})
	}

	var p config.Problems
	p.Add(nil, config.Shutdown{}.Validate())
	p.Check(true, "never")
	p.Check(false, "BAD_%s", "VALUE")
	if len(p) != 2 || !strings.Contains(p.Err().Error(), "SHUTDOWN_TIMEOUT") || !strings.Contains(p.Err().Error(), "BAD_VALUE") {
		t.Fatalf("Problems = %v, want both mistakes", p)
	}
	if (config.Problems{}).Err() != nil {
		t.Fatal("no problem must be a nil error")
	}
}

// TestLoadValidatesTheSharedPieces: a config made only of shared pieces
// (the migrate command's) is validated by Load through the promoted method.
func TestLoadValidatesTheSharedPieces(t *testing.T) {
	type onlyPostgres struct {
		config.Log
		config.Postgres
	}
	t.Setenv("DATABASE_MAX_CONNS", "0")
	if _, err := config.Load[onlyPostgres](); err == nil || !strings.Contains(err.Error(), "DATABASE_MAX_CONNS") {
		t.Fatalf("Load = %v, want DATABASE_MAX_CONNS refused", err)
	}
}

// The task queues' env defaults must be the contract's names: struct tags
// cannot refer to the constants, so this keeps the two spellings one.
func TestTaskQueueDefaultsAreTheContracts(t *testing.T) {
	cfg, err := config.Load[config.Temporal]()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OrdersTaskQueue != contracts.TaskQueueOrders || cfg.ShippingTaskQueue != contracts.TaskQueueShipping {
		t.Fatalf("defaults %q/%q, contract %q/%q", cfg.OrdersTaskQueue, cfg.ShippingTaskQueue, contracts.TaskQueueOrders, contracts.TaskQueueShipping)
	}
}
