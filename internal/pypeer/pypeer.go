// Package pypeer runs the real Python Pyro4 (Debian's python3-pyro4) for
// interop tests: it finds the interpreter, starts scripts and servers on
// loopback, and stops every process it started by its PID.
//
// When CI=true a missing peer fails the test instead of skipping it, so a
// green CI run means the Python side really ran.
package pypeer

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Python is Debian's interpreter, which sees the python3-pyro4 package.
const Python = "/usr/bin/python3"

var (
	checkOnce sync.Once
	checkErr  error
	nsTool    string
	nscTool   string
)

// binDir is where Debian installs the reference tools.
const binDir = "/usr/bin"

// Require skips (or, under CI=true, fails) the test when the Python Pyro4
// peer is not installed, or when the reference tools are not Python's.
func Require(t testing.TB) {
	t.Helper()
	checkOnce.Do(func() {
		out, err := exec.Command(Python, "-c", "import Pyro4, serpent, msgpack; print(Pyro4.__version__)").CombinedOutput()
		if err != nil {
			checkErr = fmt.Errorf("python3-pyro4 not usable: %v: %s", err, out)
			return
		}
		if nsTool, checkErr = findTool(binDir, "pyro4-ns"); checkErr != nil {
			return
		}
		nscTool, checkErr = findTool(binDir, "pyro4-nsc")
	})
	if checkErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("interop peer missing under CI: %v (install: apt-get install -y pyro4 python3-pyro4 python3-msgpack)", checkErr)
		}
		t.Skipf("interop peer missing: %v", checkErr)
	}
}

// NS is the path of the reference pyro4-ns, Python's script.
func NS(t testing.TB) string {
	t.Helper()
	Require(t)
	return nsTool
}

// Nsc is the path of the reference pyro4-nsc, Python's script.
func Nsc(t testing.TB) string {
	t.Helper()
	Require(t)
	return nscTool
}

// findTool returns Python's script of a tool in dir. This project's .deb
// diverts python3-pyro4's scripts to NAME.python3-pyro4 and links NAME to
// our binary, so the diverted path comes first; whichever path is taken
// must be a Python script, or the tests would compare us with ourselves.
func findTool(dir, name string) (string, error) {
	var tried []string
	for _, p := range []string{filepath.Join(dir, name+".python3-pyro4"), filepath.Join(dir, name)} {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("reference %s: %w", name, err)
		}
		line, _ := bufio.NewReader(io.LimitReader(f, 256)).ReadString('\n')
		f.Close()
		if strings.HasPrefix(line, "#!") && strings.Contains(line, "python") {
			return p, nil
		}
		tried = append(tried, fmt.Sprintf("%s starts with %q", p, truncate(strings.TrimSuffix(line, "\n"), 40)))
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("reference %s not installed in %s (apt-get install -y python3-pyro4)", name, dir)
	}
	return "", fmt.Errorf("reference %s is not a Python script: %s (is this project's package installed over python3-pyro4's tools?)",
		name, strings.Join(tried, "; "))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Env returns a process environment for a Python peer: the caller's
// environment without PYRO_* items, plus extra ("KEY=value"). Python output is
// unbuffered so that tests can read it line by line.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYRO_") {
			env = append(env, kv)
		}
	}
	env = append(env, "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1")
	return append(env, extra...)
}

// Run runs a Python script (the source text) with args and returns its
// combined output. The run is bounded by timeout.
func Run(t testing.TB, timeout time.Duration, env []string, script string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Python, append([]string{"-c", script}, args...)...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), fmt.Errorf("python script timed out after %v: %w", timeout, ctx.Err())
	}
	return out.String(), err
}

// Process is a long-running child (a Python name server, a daemon) whose
// output is collected line by line.
type Process struct {
	Cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
	done  bool
}

// Start starts name with args and registers its stop with t.Cleanup: SIGTERM
// to its PID, then SIGKILL if it has not exited within two seconds.
func Start(t testing.TB, env []string, name string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &Process{Cmd: cmd}
	p.cond = sync.NewCond(&p.mu)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.cond.Broadcast()
			p.mu.Unlock()
		}
	}()
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		pw.Close()
		p.mu.Lock()
		p.done = true
		p.cond.Broadcast()
		p.mu.Unlock()
		close(exited)
	}()
	t.Cleanup(func() {
		pid := cmd.Process.Pid
		syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			syscall.Kill(pid, syscall.SIGKILL)
			<-exited
		}
	})
	return p
}

// WaitLine waits until a line containing substr has been printed and returns
// it. It fails the test after timeout or when the process exits first.
func (p *Process) WaitLine(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { p.mu.Lock(); p.cond.Broadcast(); p.mu.Unlock() })
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for _, l := range p.lines {
			if strings.Contains(l, substr) {
				return l
			}
		}
		if p.done || time.Now().After(deadline) {
			t.Fatalf("no line containing %q (exited=%v); output so far:\n%s", substr, p.done, strings.Join(p.lines, "\n"))
		}
		p.cond.Wait()
	}
}

// Output returns everything printed so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// Ports handed to child processes come from below the kernel's ephemeral
// range (32768-60999 on Linux). A port the kernel picked for a listener a
// moment ago is also what it picks next as the source port of some outgoing
// connection, so under parallel tests another connection could take it
// before the child binds; a random port from a range the kernel never hands
// out on its own cannot be taken that way.
const (
	portLow  = 20000
	portHigh = 32767
)

var (
	portMu   sync.Mutex
	portRand = rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
)

// freePort returns a port in [portLow, portHigh] that the check accepts.
func freePort(t testing.TB, check func(port int) bool) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for range 1000 {
		port := portLow + portRand.IntN(portHigh-portLow+1)
		if check(port) {
			return port
		}
	}
	t.Fatalf("no free port in %d-%d after 1000 tries", portLow, portHigh)
	return 0
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	return freePort(t, func(port int) bool {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return false
		}
		l.Close()
		return true
	})
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	return freePort(t, func(port int) bool {
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// StartPythonNS starts the reference pyro4-ns (NS) on 127.0.0.1 at a free
// port, without a broadcast responder, and returns its port once it serves.
func StartPythonNS(t testing.TB, env []string, extraArgs ...string) (*Process, int) {
	t.Helper()
	Require(t)
	port := FreePort(t)
	args := append([]string{"-n", "127.0.0.1", "-p", fmt.Sprint(port), "-x"}, extraArgs...)
	p := Start(t, env, NS(t), args...)
	p.WaitLine(t, "URI =", 20*time.Second)
	return p, port
}

//go:embed broadcast_ns.py
var broadcastNS string

// StartBroadcastPythonNS runs Pyro4's NameServerDaemon and BroadcastServer,
// both on 127.0.0.1 (pyro4-ns starts no responder for a 127.x bind), and
// returns the name server and broadcast ports once it serves.
func StartBroadcastPythonNS(t testing.TB) (port, bcPort int) {
	t.Helper()
	Require(t)
	port, bcPort = FreePort(t), FreeUDPPort(t)
	p := Start(t, Env(), Python, "-c", broadcastNS, fmt.Sprint(port), fmt.Sprint(bcPort))
	p.WaitLine(t, "URI =", 20*time.Second)
	return port, bcPort
}
