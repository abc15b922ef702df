package testenv

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// testcontainers' reaper (Ryuk) is a container that removes a session's
// containers when the test process disconnects; its image cannot be pulled
// here. testenv does the same job with a copy of the test binary itself:
// started before the first container with a pipe as its standard input, it
// blocks reading that pipe; when the test process ends, however it ends
// (passed, failed, panicked, killed by -timeout), the pipe closes and the
// copy removes every container labelled with the test process's ID.

const reaperEnv = "ORDERFLOW_TESTENV_REAPER"

func init() {
	if v := os.Getenv(reaperEnv); v != "" {
		reap(v)
		os.Exit(0)
	}
}

// startReaper starts the watching copy; errors leave cleanup to t.Cleanup,
// Main and removeOrphans.
func startReaper() {
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), reaperEnv+"="+strconv.Itoa(os.Getpid()))
	cmd.Stdin = r
	// Its own process group: a Ctrl-C or a group kill aimed at the tests
	// must not take the reaper down with them.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return
	}
	r.Close()
	// w stays open, never written, until this process ends: the goroutine
	// holds it (an unreferenced *os.File would be closed by its finalizer).
	go func() { _ = cmd.Wait(); w.Close() }()
}

// reap waits for the test process (pid) to end, then removes its containers.
func reap(pid string) {
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	removeContainers(ctx, labelPID+"="+pid, nil)
}

// removeContainers force-removes the containers carrying label (key or
// key=value) that match (nil: all of them).
func removeContainers(ctx context.Context, label string, match func(labels map[string]string) bool) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		return
	}
	for _, c := range list.Items {
		if match != nil && !match(c.Labels) {
			continue
		}
		_, _ = cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	}
}
