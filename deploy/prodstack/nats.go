package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderflow/orderflow/deploy/devstack/stackkit"
	"github.com/orderflow/orderflow/shared/netx"
)

//go:embed nats.conf.tmpl
var natsConfTmpl string

// natsCluster is a JetStream cluster of nats-server processes on loopback,
// node i with its own config file and store directory under Dir.
type natsCluster struct {
	Dir                                 string
	ClientPorts, ClusterPorts, HTTPorts []int
}

func newNATSCluster(dir string, c NATSConfig) *natsCluster {
	n := &natsCluster{Dir: dir}
	for i := range c.Nodes {
		n.ClientPorts = append(n.ClientPorts, c.Port+i)
		n.ClusterPorts = append(n.ClusterPorts, c.ClusterPort+i)
		n.HTTPorts = append(n.HTTPorts, c.MonitorPort+i)
	}
	return n
}

func (n *natsCluster) nodeName(i int) string { return fmt.Sprintf("nats-%d", i+1) }

// URL lists every node, so a client fails over when its node dies.
func (n *natsCluster) URL() string {
	var urls []string
	for _, p := range n.ClientPorts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	return strings.Join(urls, ",")
}

func (n *natsCluster) monitorURLs() []string {
	var urls []string
	for _, p := range n.HTTPorts {
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", p))
	}
	return urls
}

// listeners are the cluster's addresses by the setting that moves them.
func (n *natsCluster) listeners() map[string]string {
	l := map[string]string{}
	for i := range n.ClientPorts {
		l[fmt.Sprintf("NATS_PORT (node %d)", i+1)] = fmt.Sprintf("127.0.0.1:%d", n.ClientPorts[i])
		l[fmt.Sprintf("NATS_CLUSTER_PORT (node %d)", i+1)] = fmt.Sprintf("127.0.0.1:%d", n.ClusterPorts[i])
		l[fmt.Sprintf("NATS_MONITOR_PORT (node %d)", i+1)] = fmt.Sprintf("127.0.0.1:%d", n.HTTPorts[i])
	}
	return l
}

// writeConfigs renders one configuration file per node and returns their paths.
func (n *natsCluster) writeConfigs() ([]string, error) {
	tmpl, err := template.New("nats").Parse(natsConfTmpl)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(n.Dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for i := range n.ClientPorts {
		store := filepath.Join(dir, n.nodeName(i))
		if err := os.MkdirAll(store, 0o755); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, map[string]any{
			"Name": n.nodeName(i), "ClientPort": n.ClientPorts[i], "MonitorPort": n.HTTPorts[i],
			"ClusterPort": n.ClusterPorts[i], "Routes": n.ClusterPorts, "StoreDir": store,
		}); err != nil {
			return nil, err
		}
		file := filepath.Join(dir, n.nodeName(i)+".conf")
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			return nil, err
		}
		files = append(files, file)
	}
	return files, nil
}

// start runs every node under sup and waits until JetStream answers
// through the cluster (a meta leader is elected).
func (n *natsCluster) start(ctx context.Context, sup *stackkit.Supervisor, bin string) error {
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s missing: run `make %s` (or `make run-prod`, which builds it)", bin, bin)
	}
	files, err := n.writeConfigs()
	if err != nil {
		return fmt.Errorf("nats configuration: %w", err)
	}
	for i, f := range files {
		if _, err := sup.Spawn(n.nodeName(i), bin, []string{"-c", f}, nil); err != nil {
			return err
		}
	}
	for _, p := range n.ClientPorts {
		if err := netx.WaitTCP(fmt.Sprintf("127.0.0.1:%d", p), 30*time.Second); err != nil {
			return fmt.Errorf("nats node on port %d did not come up: %w", p, err)
		}
	}
	return n.waitJetStream(ctx, 60*time.Second)
}

// waitJetStream waits until the cluster's JetStream API answers, which
// it does only once the nodes have elected a meta leader.
func (n *natsCluster) waitJetStream(ctx context.Context, timeout time.Duration) error {
	nc, err := nats.Connect(n.URL(), nats.Timeout(2*time.Second))
	if err != nil {
		return fmt.Errorf("connect to the nats cluster: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.AccountInfo(actx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("nats cluster JetStream not ready after %s: %w", timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
