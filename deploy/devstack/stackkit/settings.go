package stackkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/orderflow/orderflow/shared/config"
)

// Settings are the variables both run commands read alike; each embeds
// them in its Config next to its own (ports, data directory, database,
// shutdown time), whose defaults differ between the two.
type Settings struct {
	Log    config.Log
	BinDir string `env:"BIN_DIR" envDefault:".bin"`
	// Faults, on, has the workers fail FailRate and hang HangRate of their
	// step attempts; off, none.
	Faults   string `env:"FAULTS" envDefault:"on"`
	FailRate string `env:"FAULT_FAIL_RATE" envDefault:"0.33"`
	HangRate string `env:"FAULT_HANG_RATE" envDefault:"0.34"`
	// RestartChildren makes the run command a supervisor: a child that
	// exits is started again after RestartDelay instead of stopping
	// everything. The chaos benchmark and the failure tests kill children
	// with SIGKILL and rely on it.
	RestartChildren bool          `env:"RESTART_CHILDREN" envDefault:"false"`
	RestartDelay    time.Duration `env:"RESTART_DELAY" envDefault:"1s"`
}

// LogSettings is Log, for Run.
func (s Settings) LogSettings() config.Log { return s.Log }

// Validate rejects settings that cannot work.
func (s Settings) Validate() error {
	var errs []error
	if s.Faults != "on" && s.Faults != "off" {
		errs = append(errs, fmt.Errorf("FAULTS must be on or off, not %q", s.Faults))
	}
	if s.RestartDelay < 0 {
		errs = append(errs, fmt.Errorf("RESTART_DELAY must not be negative, not %s", s.RestartDelay))
	}
	return errors.Join(errs...)
}

// FaultsLabel says, for the banner, which faults the workers inject.
func (s Settings) FaultsLabel() string {
	if s.Faults == "off" {
		return "off (FAULTS=off)"
	}
	return fmt.Sprintf("on: %s fail, %s hang per attempt (FAULTS=off turns them off)", s.FailRate, s.HangRate)
}

// FaultEnv is a service's fault settings: the rates, or zero with FAULTS=off.
func (s Settings) FaultEnv() []string {
	if s.Faults == "on" {
		return []string{"FAULT_FAIL_RATE=" + s.FailRate, "FAULT_HANG_RATE=" + s.HangRate}
	}
	return []string{"FAULT_FAIL_RATE=0", "FAULT_HANG_RATE=0"}
}

// Supervisor is a supervisor for the run command's children, restarting
// them under RestartChildren; a child gets environ(its name) as its
// environment and stopAfter between SIGTERM and SIGKILL.
func (s Settings) Supervisor(log *slog.Logger, stopAfter time.Duration, environ func(name string) []string) *Supervisor {
	return &Supervisor{Log: log, Restart: s.RestartChildren, RestartDelay: s.RestartDelay, StopAfter: stopAfter, Environ: environ}
}

// WithoutOTEL is environ without the OTEL_* variables, which configure the
// services' tracing: the Temporal server and UI are not to get them (the
// dev server refuses some values the SDKs accept).
func WithoutOTEL(environ []string) []string {
	var env []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return env
}

// Wait runs until ctx ends (an interrupt: nil) or a child exits when it
// should not have (its error); the caller then stops the stack.
func (s *Supervisor) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		s.Log.Info("stopping: interrupt received")
		return nil
	case err := <-s.Exited():
		return err
	}
}
