package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Container is a container a test started with StartContainer.
type Container struct {
	testcontainers.Container
	t testing.TB
}

// StartContainer runs image on the host network with env, waits until
// ready (nil: until it runs) answers over loopback, and removes the
// container when the test ends. System tests run orderflow's own images
// with it (ServiceImage names them).
func StartContainer(t testing.TB, what, image string, env map[string]string, ready func(ctx context.Context) error) *Container {
	t.Helper()
	if ready == nil {
		ready = func(context.Context) error { return nil }
	}
	ctr, err := startContainer(context.Background(), containerSpec{what: what, image: image, env: env, ready: ready})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { terminate(t, ctr) })
	return &Container{Container: ctr, t: t}
}

// Kill sends SIGKILL to the container's process: no graceful shutdown,
// as when a machine dies.
func (c *Container) Kill() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := killContainer(ctx, c.Container); err != nil {
		c.t.Fatalf("testenv: %v", err)
	}
}

// killContainer sends SIGKILL to ctr and waits until the engine reports it
// stopped, so a restart that follows is a restart.
func killContainer(ctx context.Context, ctr testcontainers.Container) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	if _, err := cli.ContainerKill(ctx, ctr.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("kill container: %w", err)
	}
	for ctx.Err() == nil {
		if st, err := ctr.State(ctx); err == nil && !st.Running {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("container still running after SIGKILL: %w", ctx.Err())
}

// Restart starts a stopped or killed container again and waits until it
// is ready.
func (c *Container) Restart() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		c.t.Fatalf("testenv: restart container: %v", err)
	}
}
