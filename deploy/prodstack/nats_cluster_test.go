package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/deploy/devstack/stackkit"
	"github.com/orderflow/orderflow/shared/config"
	"github.com/orderflow/orderflow/shared/contracts"
	"github.com/orderflow/orderflow/shared/natsx"
	"github.com/orderflow/orderflow/shared/testenv"
)

// TestNATSClusterR3SurvivesLeaderKill runs the production profile's NATS
// cluster (three nats-server processes), provisions the streams at three
// replicas with the shared provisioning code, and kills the command
// stream's leader with SIGKILL between publishes: publishing and consuming
// go on through the new leader, nothing acknowledged is lost, the
// deduplication window still holds, and the node rejoins current.
func TestNATSClusterR3SurvivesLeaderKill(t *testing.T) {
	bin := filepath.Join(testenv.RepoRoot(t), ".bin", "nats-server")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s missing: run `make .bin/nats-server` first (make test does)", bin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	cluster := &natsCluster{Dir: t.TempDir()}
	for range 3 {
		cluster.ClientPorts = append(cluster.ClientPorts, testenv.FreePort(t))
		cluster.ClusterPorts = append(cluster.ClusterPorts, testenv.FreePort(t))
		cluster.HTTPorts = append(cluster.HTTPorts, testenv.FreePort(t))
	}
	var out testenv.Buffer
	// Restart brings the killed node back, as a supervisor would.
	sup := &stackkit.Supervisor{Log: slog.New(slog.NewTextHandler(&out, nil)), Out: &out,
		StopAfter: 10 * time.Second, Restart: true, RestartDelay: 3 * time.Second}
	t.Cleanup(func() {
		sup.Stop()
		if t.Failed() {
			t.Logf("cluster output:\n%s", out.String())
		}
	})
	if err := cluster.start(ctx, sup, bin); err != nil {
		t.Fatal(err)
	}

	cfgs, err := natsx.StreamConfigsWith(config.Streams{Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	nc := testenv.Connect(t, cluster.URL())
	js := testenv.JetStream(t, nc)
	if err := natsx.ProvisionStreams(ctx, js, cfgs); err != nil {
		t.Fatal(err)
	}
	checks, err := natsx.WaitStreamsCurrent(ctx, js, cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Replicas != 3 || c.Leader == "" {
			t.Fatalf("%s: R%d leader %q, want R3 with a leader", c.Name, c.Replicas, c.Leader)
		}
	}

	stream, err := js.Stream(ctx, contracts.StreamCommands)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "r3-test", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	const perPhase = 40
	got := map[string]bool{}
	publish := func(from int) {
		for i := from; i < from+perPhase; i++ {
			id := fmt.Sprintf("cmd-%03d", i)
			m := nats.NewMsg(fmt.Sprintf("%s.o-%d.start", contracts.CommandsRoot, i))
			m.Header.Set(contracts.HeaderMsgID, id)
			m.Data = []byte(id)
			retry(ctx, t, "publish "+id, func(ctx context.Context) error { _, err := js.PublishMsg(ctx, m); return err })
		}
	}
	consume := func(want int) {
		deadline := time.Now().Add(30 * time.Second)
		for len(got) < want {
			if time.Now().After(deadline) {
				t.Fatalf("consumed %d distinct commands, want %d", len(got), want)
			}
			batch, err := cons.Fetch(10, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				continue // the consumer moves with the leader; fetch again
			}
			for m := range batch.Messages() {
				got[string(m.Data())] = true
				_ = m.Ack()
			}
		}
	}

	publish(0)
	consume(perPhase)

	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := info.Cluster.Leader
	p := sup.Proc(leader)
	if p == nil {
		t.Fatalf("leader %q is not one of the cluster's processes", leader)
	}
	killed := p.Pid()
	if err := syscall.Kill(killed, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the %s leader %s (pid %d)", contracts.StreamCommands, leader, killed)

	publish(perPhase)
	consume(2 * perPhase)

	// A command published again after the failover is still a duplicate.
	dup := nats.NewMsg(contracts.CommandsRoot + ".o-0.start")
	dup.Header.Set(contracts.HeaderMsgID, "cmd-000")
	var ack *jetstream.PubAck
	retry(ctx, t, "republish", func(ctx context.Context) error { ack, err = js.PublishMsg(ctx, dup); return err })
	if !ack.Duplicate {
		t.Error("a re-published command was not dropped after the leader change")
	}
	info, err = stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster.Leader == leader && p.Pid() == killed {
		t.Errorf("leader still %s after it was killed", leader)
	}
	if info.State.Msgs != 2*perPhase {
		t.Errorf("stream holds %d messages, want %d", info.State.Msgs, 2*perPhase)
	}

	// The killed node comes back and catches up: every replica current again.
	if _, err := natsx.WaitStreamsCurrent(ctx, js, cfgs); err != nil {
		t.Fatalf("after the killed node restarted: %v", err)
	}
}

// retry runs f, each attempt bounded, until it succeeds or ctx's deadline
// passes: during an election the cluster refuses or leaves requests
// unanswered for a few seconds. A retried publish keeps its Nats-Msg-Id, so
// it is stored once.
func retry(ctx context.Context, t *testing.T, what string, f func(context.Context) error) {
	t.Helper()
	deadline, _ := ctx.Deadline()
	testenv.Eventually(t, time.Until(deadline), func() (bool, string) {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		err := f(actx)
		return err == nil, fmt.Sprintf("%s: %v", what, err)
	})
}

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
