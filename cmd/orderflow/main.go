// Command orderflow is the operator's tool: migrations, streams, dead
// letters, order inspection and signals, and rebuilding the projection.
// See `orderflow --help` and the README's "Operator CLI" section.
package main

import (
	"context"
	"os"

	"github.com/orderflow/orderflow/cmd/orderflow/cli"
	"github.com/orderflow/orderflow/shared/app"
)

func main() {
	app.Main("orderflow", func(ctx context.Context) error {
		return cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	})
}
