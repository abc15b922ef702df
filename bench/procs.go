package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orderflow/orderflow/shared/netx"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// procStat reads the parent PID and CPU time (utime+stime) of a process.
func procStat(pid int) (ppid int, cpu time.Duration, comm string, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, "", err
	}
	// comm is in parentheses and may hold spaces: the fields follow the last ')'.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return 0, 0, "", fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	comm = s[open+1 : end]
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, 0, "", fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	// After comm: state(0) ppid(1) … utime(11) stime(12).
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, time.Duration(ut+st) * time.Second / clockTicks, comm, nil
}

// children lists the child processes of parent by command name (the binary's
// base name, cut to 15 characters as the kernel keeps it).
func children(parent int) (map[string]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, _, comm, err := procStat(pid)
		if err == nil && ppid == parent {
			out[comm] = pid
		}
	}
	return out, nil
}

// childPID finds the run command's child called name (e.g. "temporal").
func childPID(parent int, name string) (int, error) {
	kids, err := children(parent)
	if err != nil {
		return 0, err
	}
	if len(name) > 15 {
		name = name[:15]
	}
	pid, ok := kids[name]
	if !ok {
		return 0, fmt.Errorf("no child %q of pid %d (children: %v)", name, parent, kids)
	}
	return pid, nil
}

// cpuOf sums the CPU time of the named children of parent, every copy of
// each; a child not running (being restarted) counts nothing.
func cpuOf(parent int, names ...string) time.Duration {
	var total time.Duration
	for _, n := range names {
		for _, pid := range childPIDs(parent, n) {
			if _, cpu, _, err := procStat(pid); err == nil {
				total += cpu
			}
		}
	}
	return total
}

// killChild sends SIGKILL to the named child of parent and waits until the
// supervisor (RESTART_CHILDREN) has started a new one.
func killChild(ctx context.Context, parent int, name string) (old, new int, err error) {
	old, new, _, err = killReplica(ctx, parent, name, nil)
	return old, new, err
}

// childPIDs lists the children of parent called comm (the binary's base
// name, cut to 15 characters), lowest PID first: a run command may run
// several copies of one binary.
func childPIDs(parent int, comm string) []int {
	if len(comm) > 15 {
		comm = comm[:15]
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, c, err := procStat(pid); err == nil && ppid == parent && c == comm {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

// replicaKey tells the copies of one binary apart across restarts: the
// OPS_ADDR in its environment (one per service replica), else its command
// line (a NATS node's names its configuration file).
func replicaKey(pid int) string {
	// A process just started may not show its arguments and environment
	// yet (both come with its exec): a moment later it does.
	for range 10 {
		if key := readReplicaKey(pid); key != "" {
			return key
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ""
}

func readReplicaKey(pid int) string {
	if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err == nil {
		key := ""
		for _, kv := range strings.Split(string(env), "\x00") {
			if v, ok := strings.CutPrefix(kv, "OPS_ADDR="); ok {
				key = v // the last one is the one the process sees
			}
		}
		if key != "" {
			return key
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	return strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " ")
}

// killReplica sends SIGKILL to the child of parent called comm that choose
// picks by its replicaKey (nil: the first), and waits until the supervisor
// has started the same replica (same key) again.
func killReplica(ctx context.Context, parent int, comm string, choose func(key string) bool) (old, new int, key string, err error) {
	for _, pid := range childPIDs(parent, comm) {
		if k := replicaKey(pid); choose == nil || choose(k) {
			old, key = pid, k
			break
		}
	}
	if old == 0 {
		kids, _ := children(parent)
		return 0, 0, "", fmt.Errorf("no child %q of pid %d to kill (children: %v)", comm, parent, kids)
	}
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		return old, 0, key, fmt.Errorf("kill %s (%d): %w", comm, old, err)
	}
	for {
		for _, pid := range childPIDs(parent, comm) {
			if pid != old && replicaKey(pid) == key {
				return old, pid, key, nil
			}
		}
		select {
		case <-ctx.Done():
			return old, 0, key, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// natsServer is a nats-server process the bench owns, so the chaos scenario
// can kill it with SIGKILL and start it again on the same port and store.
type natsServer struct {
	bin, storeDir, logPath string
	port                   int
	cmd                    *exec.Cmd
	done                   chan struct{}
}

// natsBinary returns .bin/nats-server, building it from the module the run
// command already depends on when it is missing.
func natsBinary(root string) (string, error) {
	bin := filepath.Join(root, ".bin", "nats-server")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	fmt.Println("building", bin)
	cmd := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	cmd.Dir = filepath.Join(root, "deploy", "devstack")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build nats-server: %w", err)
	}
	return bin, nil
}

func (n *natsServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

func (n *natsServer) start() error {
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	n.cmd = exec.Command(n.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-js", "-sd", n.storeDir)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start nats-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); logFile.Close(); close(done) }()
	n.done = done
	return netx.WaitTCP(fmt.Sprintf("127.0.0.1:%d", n.port), 30*time.Second)
}

func (n *natsServer) kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

func (n *natsServer) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.kill()
	}
}

// devServerDynamicConfig is the dynamic config the running dev server was
// started with, read from its command line: proof of what a run measured.
func devServerDynamicConfig(parent int) string {
	pid, err := childPID(parent, "temporal")
	if err != nil {
		return err.Error()
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return err.Error()
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	var out []string
	for i, a := range args {
		if a == "--dynamic-config-value" && i+1 < len(args) {
			out = append(out, args[i+1])
		}
	}
	return strings.Join(out, ",")
}
