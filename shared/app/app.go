// Package app runs every main: Main turns SIGINT/SIGTERM into context
// cancellation and an error into a non-zero exit code (app.go); Serve runs
// a service with its ops listener, readiness checks and telemetry
// (service.go); Conns closes the connections main opened, last opened
// first, each within the shutdown timeout, with the one NATS drain
// (close.go).
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Version is the build's version, stamped by the Makefile with
// -ldflags "-X github.com/orderflow/orderflow/shared/app.Version=...";
// `<service> --version` prints it, so an image can be traced to its commit.
var Version = "dev"

// Main runs run until it returns or a termination signal arrives; run must
// stop intake and release resources when ctx is cancelled.
func Main(name string, run func(ctx context.Context) error) {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "version") {
		fmt.Printf("%s %s\n", name, Version)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
