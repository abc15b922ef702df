// Package devserver owns how orderflow runs the Temporal CLI's dev server:
// its flags (ports, SQLite file, search attributes) and the tuning measured
// in BENCHMARKS.md. The run command (deploy/devstack), the test kit, the compose check and the
// benchmark use it; services never do: they only dial an address.
package devserver

import (
	"fmt"

	"github.com/orderflow/orderflow/shared/contracts"
)

// DefaultSQLitePragmas make the dev server's single SQLite connection
// commit faster: WAL journaling with normal syncs. BENCHMARKS.md measures
// their effect; durability against power loss is not a goal of a dev server.
var DefaultSQLitePragmas = []string{"journal_mode=wal", "synchronous=normal"}

// DefaultDynamicConfig tunes the single-shard dev server for latency
// (BENCHMARKS.md measures each):
//   - timerProcessorMaxTimeShift: no timer is scheduled earlier than now plus
//     this shift (1 s by default, a guard against clock skew between hosts),
//     so the 500 ms auto-approval timer fired after about 1 s. One process
//     has no skew to guard against.
//   - transfer/timerProcessorMaxPollRPS: each queue reader polls at most 20
//     times a second per shard (one shard here), so under load every task
//     dispatch, child start and timer waited up to 50 ms for its poll.
var DefaultDynamicConfig = []string{
	`history.timerProcessorMaxTimeShift="10ms"`,
	"history.transferProcessorMaxPollRPS=1000",
	"history.timerProcessorMaxPollRPS=1000",
	// Eager activities: the activity a workflow task schedules goes back to
	// the worker with the task's completion, without a matching round trip.
	"system.enableActivityEagerExecution=true",
}

// DevServer describes a Temporal dev server process.
type DevServer struct {
	Port, UIPort, HTTPPort int
	DBFile                 string
	Headless               bool     // no Web UI
	SQLitePragmas          []string // e.g. DefaultSQLitePragmas; nil keeps SQLite's defaults
	DynamicConfig          []string // key=JSON value, e.g. DefaultDynamicConfig
}

// Args are the `temporal server start-dev` flags for d.
func (d DevServer) Args() []string {
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", fmt.Sprint(d.Port),
		"--http-port", fmt.Sprint(d.HTTPPort),
		"--metrics-port", "0",
		"--db-filename", d.DBFile,
		"--log-level", "warn",
		// OrderWorkflow upserts these; an unregistered one fails its task.
		"--search-attribute", contracts.SearchAttrOrderState + "=Keyword",
		"--search-attribute", contracts.SearchAttrOrderStep + "=Keyword",
	}
	for _, p := range d.SQLitePragmas {
		args = append(args, "--sqlite-pragma", p)
	}
	for _, v := range d.DynamicConfig {
		args = append(args, "--dynamic-config-value", v)
	}
	if d.Headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", fmt.Sprint(d.UIPort))
	}
	return args
}
