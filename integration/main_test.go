// Package integration_test checks the published contracts against the
// running system: the Go client and its generated HTTP client, the AsyncAPI
// document and its schemas, the client's wire types against the services'
// contracts, and an example program built outside the workspace.
package integration_test

import (
	"os"
	"testing"

	"github.com/orderflow/orderflow/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
