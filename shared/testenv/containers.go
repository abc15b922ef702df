package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/orderflow/orderflow/shared/netx"
)

// Infrastructure modes, chosen with ORDERFLOW_TEST_INFRA.
const (
	// InfraContainers (the default) runs PostgreSQL, NATS and the Temporal dev
	// server in containers through testcontainers-go.
	InfraContainers = "containers"
	// InfraLocal uses the local PostgreSQL server (TEST_DATABASE_URL), an
	// embedded NATS server and the temporal binary, with no Docker.
	InfraLocal = "local"
)

// Labels on every container testenv starts, so leftovers of a test binary
// that died before its cleanup can be found and removed.
const (
	labelTestenv = "org.orderflow.testenv"
	labelPID     = "org.orderflow.testenv.pid"
)

// Infra reports how this test binary obtains its infrastructure. A value
// other than "", "containers" or "local" panics: a typo must not silently
// pick a path.
func Infra() string {
	switch v := strings.TrimSpace(os.Getenv("ORDERFLOW_TEST_INFRA")); v {
	case "", InfraContainers:
		return InfraContainers
	case InfraLocal:
		return InfraLocal
	default:
		panic(fmt.Sprintf("testenv: ORDERFLOW_TEST_INFRA=%q: want %q or %q", v, InfraContainers, InfraLocal))
	}
}

func useContainers() bool { return Infra() == InfraContainers }

// Image names are settings (the Makefile exports the same variables), so a
// machine that can pull may use the official images instead of ours.
func postgresImage() string { return envOr("POSTGRES_IMAGE", "orderflow/postgres:15") }
func natsImage() string     { return envOr("NATS_IMAGE", "orderflow/nats:v2.15.2") }
func temporalImage() string { return envOr("TEMPORAL_IMAGE", "orderflow/temporal:v1.5.1") }

// ServiceImage names the image of one of orderflow's programs (api, bridge,
// order-worker, shipping-worker, projector, migrate), as `make images`
// tags it: ORDERFLOW_IMAGE_PREFIX + name + ":" + ORDERFLOW_IMAGE_TAG.
func ServiceImage(name string) string {
	return envOr("ORDERFLOW_IMAGE_PREFIX", "orderflow/") + name + ":" + envOr("ORDERFLOW_IMAGE_TAG", "local")
}

var prepareOnce sync.Once

// prepare runs once per test binary before the first container: the reaper
// image cannot be pulled here, so it is off unless the caller chose
// otherwise; testenv's own reaper (reaper.go) takes its place, and
// containers left by test binaries that died anyway are removed.
func prepare() {
	prepareOnce.Do(func() {
		if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
			os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		removeOrphans(ctx)
		startReaper()
	})
}

// removeOrphans removes testenv containers whose test process is gone (it
// was killed before its cleanup ran and its reaper failed too). Containers
// run on the host network, so the process IDs in their labels are this
// machine's.
func removeOrphans(ctx context.Context) {
	removeContainers(ctx, labelTestenv, func(labels map[string]string) bool {
		pid, err := strconv.Atoi(labels[labelPID])
		return err == nil && !processAlive(pid)
	})
}

func processAlive(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// containerSpec describes one infrastructure container on the host network.
type containerSpec struct {
	what  string // for messages: "PostgreSQL", "NATS", ...
	image string
	cmd   []string
	env   map[string]string
	// ready polls the service over loopback: in host network mode there are
	// no mapped ports, so port-based wait strategies cannot be used.
	ready func(ctx context.Context) error
}

// startContainer starts spec on the host network and waits until ready
// answers. When the container exits before that (for example because a
// port chosen for it was taken meanwhile by another test binary), the
// error wraps errExitedEarly so the caller can retry on other ports.
//
// It uses a DockerProvider whose default network is "host" rather than
// testcontainers.Run: an engine started with --bridge=none has no "bridge"
// network, and Run would then create a bridge network (a private-range
// subnet on the host) and attach every container to it, which host mode
// forbids. For the same reason the postgres and nats modules do not fit:
// they are wrappers of Run, and their connection strings come from mapped
// ports, which host mode has none of.
func startContainer(ctx context.Context, spec containerSpec) (testcontainers.Container, error) {
	prepare()
	req := testcontainers.GenericContainerRequest{ContainerRequest: testcontainers.ContainerRequest{Image: spec.image}}
	for _, opt := range []testcontainers.CustomizeRequestOption{
		testcontainers.WithCmd(spec.cmd...),
		testcontainers.WithEnv(spec.env),
		testcontainers.WithLabels(map[string]string{labelTestenv: "true", labelPID: strconv.Itoa(os.Getpid())}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.NetworkMode = network.NetworkHost }),
		testcontainers.WithWaitStrategy(loopbackReady{check: spec.ready, timeout: 90 * time.Second}),
	} {
		if err := opt(&req); err != nil {
			return nil, err
		}
	}
	provider, err := testcontainers.NewDockerProvider(testcontainers.WithDefaultBridgeNetwork(network.NetworkHost))
	if err != nil {
		return nil, fmt.Errorf("%s container: %w%s", spec.what, err, hint(err))
	}
	defer provider.Close()
	ctr, err := provider.RunContainer(ctx, req.ContainerRequest)
	if err != nil {
		if ctr != nil {
			_ = ctr.Terminate(context.Background())
		}
		return nil, fmt.Errorf("%s container (%s): %w%s", spec.what, spec.image, err, hint(err))
	}
	return ctr, nil
}

// hint says how to fix the usual causes of a failed start.
func hint(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, errExitedEarly):
		return ""
	case strings.Contains(msg, "No such image") || strings.Contains(msg, "pull access denied") ||
		strings.Contains(msg, "not found") || strings.Contains(msg, "pull"):
		return " (build the images with `make images`, or set POSTGRES_IMAGE, NATS_IMAGE, TEMPORAL_IMAGE)"
	case strings.Contains(msg, "Cannot connect to the Docker daemon") || strings.Contains(msg, "docker host") ||
		strings.Contains(msg, "rootless Docker not found"):
		return " (start a Docker engine: deploy/docker/ensure-engine.sh; or run without Docker: ORDERFLOW_TEST_INFRA=local)"
	}
	return ""
}

// withFreePorts runs start with n fresh loopback ports, retrying on new
// ports when the container died at start (a port race with another test
// binary); any other error is returned at once.
func withFreePorts(n int, start func(ports []int) error) error {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		ports := make([]int, n)
		for i := range ports {
			if ports[i], err = netx.FreePort(); err != nil {
				return err
			}
		}
		if err = start(ports); !errors.Is(err, errExitedEarly) {
			return err
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
	return err
}

// terminate removes a container, logging rather than failing: it runs in
// cleanups, after the test's verdict.
func terminate(t interface{ Logf(string, ...any) }, ctr testcontainers.Container) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ctr.Terminate(ctx, testcontainers.StopTimeout(5*time.Second)); err != nil && t != nil {
		t.Logf("testenv: remove container: %v", err)
	}
}

// loopbackReady is a wait strategy that polls check until it succeeds, the
// container stops running (errExitedEarly, with the end of its log) or
// timeout passes.
type loopbackReady struct {
	check   func(ctx context.Context) error
	timeout time.Duration
}

// WaitUntilReady implements wait.Strategy.
func (w loopbackReady) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	var last error
	for {
		state, err := target.State(ctx)
		if err == nil && !state.Running {
			return fmt.Errorf("%w (exit code %d): %s", errExitedEarly, state.ExitCode, logTail(target))
		}
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		last = w.check(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w; log: %s", w.timeout, last, logTail(target))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logTail returns the last lines of a container's output, for errors.
func logTail(target wait.StrategyTarget) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := target.Logs(ctx)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	out := strings.Join(lines, "\n")
	if len(out) > 3000 {
		out = "..." + out[len(out)-3000:]
	}
	return out
}
