// Package etcdtest runs a real etcd cluster (Debian's etcd-server) on
// loopback for tests: it starts the members, waits until they are healthy,
// kills and restarts members by PID to simulate failures, compacts, and
// stops every process it started when the test ends.
//
// When CI=true a missing etcd binary fails the test instead of skipping it,
// so a green CI run means the cluster really ran.
package etcdtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Binary is Debian's etcd server.
const Binary = "/usr/bin/etcd"

// startTimeout bounds the wait for a member, or the whole cluster, to
// become healthy. With the short election timeout below a healthy start
// takes one or two seconds; the rest is room for a loaded machine.
const startTimeout = 20 * time.Second

// Require skips (or, under CI=true, fails) the test when the etcd server
// is not installed.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("etcd missing under CI: %v (install: apt-get install -y etcd-server)", err)
		}
		t.Skipf("etcd missing: %v", err)
	}
}

// Member is one etcd process of a Cluster.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	DataDir   string
	logPath   string

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
}

// Cluster is a running set of etcd members on loopback.
type Cluster struct {
	t       testing.TB
	mu      sync.Mutex
	members []*Member
	initial string // the --initial-cluster value
	// TLS, when the cluster was started with it, holds its certificates.
	TLS *TLSFiles
	tc  *tls.Config // the client side of TLS
}

// Options configures StartWith.
type Options struct {
	// Members is the cluster size (3 when zero).
	Members int
	// TLS makes the members serve clients over TLS only, with
	// certificates made for the test, and require a client certificate.
	TLS bool
}

// Start runs an n-member cluster, waits until it is healthy and registers
// its stop in t.Cleanup. Ports are picked free on 127.0.0.1; a start that
// loses a port to another process is retried with new ports.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartWith(t, Options{Members: n})
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Cluster {
	t.Helper()
	Require(t)
	if o.Members <= 0 {
		o.Members = 3
	}
	var err error
	for attempt := range 3 {
		var c *Cluster
		if c, err = start(t, o, attempt); err == nil {
			return c
		}
		t.Logf("etcd cluster start (attempt %d): %v", attempt+1, err)
	}
	t.Fatalf("etcd cluster did not start: %v", err)
	return nil
}

func start(t testing.TB, o Options, attempt int) (*Cluster, error) {
	n := o.Members
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	c := &Cluster{t: t}
	scheme := "http"
	if o.TLS {
		scheme = "https"
		if c.TLS, err = makeTLS(dir); err != nil {
			return nil, fmt.Errorf("etcd test certificates: %w", err)
		}
		if c.tc, err = c.TLS.clientTLS(); err != nil {
			return nil, err
		}
	}
	var initial []string
	for i := range n {
		m := &Member{
			Name:      fmt.Sprintf("m%d", i),
			ClientURL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, ports[2*i]),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
			DataDir:   filepath.Join(dir, fmt.Sprintf("m%d.data", i)),
			logPath:   filepath.Join(dir, fmt.Sprintf("m%d.log", i)),
		}
		c.members = append(c.members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	c.initial = strings.Join(initial, ",")
	t.Cleanup(func() { c.stop(t.Failed()) })
	for i := range c.members {
		if err := c.run(i, fmt.Sprintf("tok-%d-%d", os.Getpid(), attempt)); err != nil {
			c.stop(true)
			return nil, err
		}
	}
	if err := c.WaitHealthy(startTimeout); err != nil {
		c.stop(true)
		return nil, err
	}
	return c, nil
}

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// run starts member i; token is the cluster token of a new cluster (a
// restart reuses the data directory, where etcd ignores it).
func (c *Cluster) run(i int, token string) error {
	m := c.members[i]
	logf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("etcd log: %w", err)
	}
	defer logf.Close()
	args := []string{
		"--name", m.Name,
		"--data-dir", m.DataDir,
		"--listen-client-urls", m.ClientURL,
		"--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.PeerURL,
		"--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", c.initial,
		"--initial-cluster-state", "new",
		"--initial-cluster-token", token,
		"--heartbeat-interval", "50",
		"--election-timeout", "500",
		"--logger", "zap",
		"--log-level", "warn",
	}
	if c.TLS != nil {
		args = append(args, "--cert-file", c.TLS.ServerCert, "--key-file", c.TLS.ServerKey,
			"--trusted-ca-file", c.TLS.CA, "--client-cert-auth")
	}
	cmd := exec.Command(Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	// etcd reads ETCD_* variables as flags; the test's environment must not
	// configure it behind our back.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start etcd %s: %w", m.Name, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	c.mu.Lock()
	m.cmd, m.done = cmd, done
	c.mu.Unlock()
	return nil
}

// Members returns the members, in start order.
func (c *Cluster) Members() []*Member { return c.members }

// Endpoints returns every member's client URL.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// Running reports whether member i's process is alive.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	m := c.members[i]
	done := m.done
	c.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Kill stops member i at once with SIGKILL, by its PID, as a crash would,
// and waits until the process is gone.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	c.mu.Lock()
	m := c.members[i]
	cmd, done := m.cmd, m.done
	m.cmd, m.done = nil, nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.t.Errorf("kill etcd %s (pid %d): %v", m.Name, cmd.Process.Pid, err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.t.Errorf("etcd %s (pid %d) still running 10 s after SIGKILL", m.Name, cmd.Process.Pid)
	}
}

// Restart starts a killed member again on its data directory and ports. It
// does not wait: a member alone in a cluster without quorum never becomes
// healthy; call WaitHealthy when quorum is expected.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.Running(i) {
		c.t.Fatalf("restart etcd %s: still running", c.members[i].Name)
	}
	if err := c.run(i, ""); err != nil {
		c.t.Fatal(err)
	}
}

// WaitHealthy waits, at most timeout, until every running member answers
// its /health check (which needs a leader and a committed read).
func (c *Cluster) WaitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: c.tc}}
	defer hc.CloseIdleConnections()
	for i, m := range c.members {
		if !c.Running(i) {
			continue
		}
		for {
			err := health(hc, m.ClientURL)
			if err == nil {
				break
			}
			if !c.Running(i) {
				return fmt.Errorf("etcd %s exited: %s", m.Name, tail(m.logPath, 5))
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("etcd %s not healthy after %v: %v", m.Name, timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func health(hc *http.Client, url string) error {
	resp, err := hc.Get(url + "/health")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"health":"true"`)) {
		return fmt.Errorf("health %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// Client returns a client of the whole cluster, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   c.Endpoints(),
		DialTimeout: 5 * time.Second,
		TLS:         c.tc,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Compact compacts the cluster's history up to its current revision, so
// that a watch from an older revision fails as compacted, and returns that
// revision.
func (c *Cluster) Compact(t testing.TB) int64 {
	t.Helper()
	cli := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "compact-probe")
	if err != nil {
		t.Fatalf("etcd revision: %v", err)
	}
	rev := resp.Header.Revision
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("etcd compact %d: %v", rev, err)
	}
	return rev
}

// stop kills every running member; with logs, the end of each member's
// log goes to the test log (for a failed test).
func (c *Cluster) stop(logs bool) {
	for i, m := range c.members {
		c.Kill(i)
		if logs {
			c.t.Logf("etcd %s log:\n%s", m.Name, tail(m.logPath, 15))
		}
	}
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-lines):], "\n")
}
