package testenv

import (
	"log/slog"
	"testing"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
)

// Logger is the services' own log format, warnings and errors only, written
// to the test's output: shown when the test fails or runs with -v, silent
// otherwise, and attributed to the test that logged it.
func Logger(t testing.TB) *slog.Logger { return LoggerAt(t, slog.LevelWarn) }

// LoggerAt is Logger at another level, e.g. slog.LevelError for a client
// that warns at every retry while a test keeps its server down.
func LoggerAt(t testing.TB, level slog.Level) *slog.Logger {
	return logging.NewTo(t.Output(), "test", config.Log{Level: level})
}
