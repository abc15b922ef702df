package temporalx

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	tworker "go.temporal.io/sdk/worker"
)

// RunWorker serves taskQueue with what register adds until ctx is done,
// then stops the worker, which waits up to stopTimeout for the activities
// in flight. name ("order worker") names it in the error and the log. The
// caller owns c and the connections the activities use, and closes them
// once RunWorker has returned, so activities in flight finish on live
// connections.
func RunWorker(ctx context.Context, c client.Client, taskQueue string, stopTimeout time.Duration, name string, log *slog.Logger, register func(tworker.Registry)) error {
	w := tworker.New(c, taskQueue, tworker.Options{WorkerStopTimeout: stopTimeout})
	register(w)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	<-ctx.Done()
	w.Stop()
	log.Info(name + " stopped")
	return nil
}
