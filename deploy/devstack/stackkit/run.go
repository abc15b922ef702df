package stackkit

import (
	"context"
	"log/slog"

	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/logging"
)

// Stack is what a run command brings up.
type Stack interface {
	// Start starts everything in order; Stop stops what it started, also
	// when it failed half-way.
	Start(ctx context.Context) error
	// Stop stops everything that was started, last started first.
	Stop()
	// Banner prints where to reach what was started.
	Banner()
	// Supervisor runs the stack's children.
	Supervisor() *Supervisor
}

// Run is a run command's body, for app.Main: it loads C from the
// environment (config.Load), builds the stack with newStack, starts it,
// prints its banner and waits until ctx ends or a child exits when it
// should not have (Supervisor.Wait). The stack is stopped on the way out,
// whatever happened after newStack returned.
func Run[C interface{ LogSettings() config.Log }](ctx context.Context, name string, newStack func(cfg C, log *slog.Logger) (Stack, error)) error {
	cfg, err := config.Load[C]()
	if err != nil {
		return err
	}
	s, err := newStack(cfg, logging.New(name, cfg.LogSettings()))
	if err != nil {
		return err
	}
	defer s.Stop()
	if err := s.Start(ctx); err != nil {
		return err
	}
	s.Banner()
	return s.Supervisor().Wait(ctx)
}
