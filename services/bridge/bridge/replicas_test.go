package bridge_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderflow/orderflow/services/bridge/bridge"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/domain"
	"github.com/orderflow/orderflow/shared/testenv"
)

// replica is one bridge process of several: its own NATS connection, so it
// can be cut off as a SIGKILL would, and its own metrics.
type replica struct {
	name   string
	nc     *nats.Conn
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func (s *stack) startReplica(name string) *replica {
	r := &replica{name: name, nc: s.NATS.Conn(), reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	log := testenv.Logger(s.t).With("replica", name)
	go func() {
		r.done <- bridge.Run(ctx, s.cfg, bridge.Deps{NATS: r.nc, Temporal: s.tc}, log, bridge.WithMetrics(r.reg))
	}()
	s.t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			s.t.Errorf("replica %s did not stop", name)
		}
	})
	return r
}

// applied is how many commands this replica settled.
func (r *replica) applied(t *testing.T) float64 {
	t.Helper()
	families, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() == "orderflow_bridge_commands_total" {
			for _, m := range f.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// kill cuts the replica off without a goodbye: the commands it holds stay
// unacknowledged until the broker's AckWait runs out.
func (r *replica) kill() {
	r.nc.Close()
	r.cancel()
}

// Two bridges share the consumer and the pinned one dies while commands
// flow: the other takes over, and every order's commands are still applied
// in the order they were published, none lost, none twice.
func TestReplicasKeepEachOrdersCommandsInOrder(t *testing.T) {
	s := newIdleStack(t, testenv.Temporal(t), func(c *bridge.Config) {
		c.AckWait, c.PinnedTTL = 3*time.Second, 2*time.Second
	})
	replicas := []*replica{s.startReplica("a"), s.startReplica("b")}

	const orders, updates = 12, 8
	ids := make([]string, orders)
	for i := range ids {
		ids[i] = testenv.UniqueName(fmt.Sprintf("rep%02d", i))
		s.publish(startCmd(ids[i], "pay-"+ids[i], true)) // manual review: address updates stay allowed
	}
	var killed, survivor *replica
	for k := 1; k <= updates; k++ {
		for _, id := range ids {
			cmd := signalCmd(id, contracts.CommandUpdateAddress)
			cmd.Address = &domain.Address{Street: fmt.Sprintf("%d Main St", k), City: "Springfield", State: "CA", ZipCode: "94000"}
			s.publish(cmd)
			time.Sleep(2 * time.Millisecond)
		}
		if k == updates/2 {
			// Kill whichever replica is applying: the pinned one.
			testenv.Eventually(t, 10*time.Second, func() (bool, string) {
				for i, r := range replicas {
					if r.applied(t) > 0 {
						killed, survivor = r, replicas[1-i]
					}
				}
				return killed != nil, "no replica applied a command"
			})
			if survivor.applied(t) != 0 {
				t.Fatalf("both replicas applied commands before the kill (%s: %v, %s: %v): the consumer is not pinned",
					killed.name, killed.applied(t), survivor.name, survivor.applied(t))
			}
			killed.kill()
		}
	}
	s.waitSettled(2 * time.Minute)
	if survivor.applied(t) == 0 {
		t.Fatalf("replica %s never took over from %s", survivor.name, killed.name)
	}

	for _, id := range ids {
		// Every command settled exactly once: a start and the updates.
		if rs := s.results(contracts.ResultSubject(id)); len(rs) != 1+updates {
			t.Fatalf("order %s: %d results, want %d: %+v", id, len(rs), 1+updates, rs)
		}
		// The address_updated events, in the order the workflow applied
		// the signals, name the streets in publishing order. Events go out
		// after the commands are settled: wait for all of them.
		var streets []string
		testenv.Eventually(t, 30*time.Second, func() (bool, string) {
			streets = nil
			for _, m := range testenv.ReadStream(t, s.JS, contracts.StreamEvents, contracts.EventSubject(id, contracts.EventAddressUpdated)) {
				ev, err := contracts.DecodeEvent(m.Data())
				if err != nil {
					t.Fatalf("decode %s message: %v", contracts.StreamEvents, err)
				}
				streets = append(streets, ev.Order.Address.Street)
			}
			return len(streets) >= updates, fmt.Sprintf("order %s: %d of %d address updates: %v", id, len(streets), updates, streets)
		})
		var want []string
		for k := 1; k <= updates; k++ {
			want = append(want, fmt.Sprintf("%d Main St", k))
		}
		if strings.Join(streets, ", ") != strings.Join(want, ", ") {
			t.Fatalf("order %s applied addresses in this order: %v", id, streets)
		}
		if st := s.status(id); st.Status == nil || st.Status.State != domain.StateAwaitingApproval {
			t.Fatalf("order %s: %+v", id, st)
		}
	}
}
