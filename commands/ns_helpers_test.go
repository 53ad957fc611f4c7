package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/locator"
	"github.com/pyro4/pyro4/wire"
)

// The name server tests run `pyro4 ns` in-process through MainContext, or
// as the built binary when a test needs signals, kill -9 or a network
// namespace, next to Pyro4's own name server run the same way.

const nsWait = 30 * time.Second // bound on any single wait

// nsBuffer is written by a command or a child process while the test
// reads it.
type nsBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *nsBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *nsBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// nsPoll calls cond until it holds, failing the test after nsWait.
func nsPoll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(nsWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nsCleanEnv removes the caller's PYRO_* items for the test and sets kv.
func nsCleanEnv(t *testing.T, kv ...string) {
	t.Helper()
	for _, e := range os.Environ() {
		if name, _, _ := strings.Cut(e, "="); strings.HasPrefix(name, "PYRO_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	for _, e := range kv {
		name, value, _ := strings.Cut(e, "=")
		t.Setenv(name, value)
	}
}

// nsRun is `pyro4 ns` running in-process.
type nsRun struct {
	out, err nsBuffer
	cancel   context.CancelFunc
	done     chan struct{}
	code     int
}

func startNsInProcess(t *testing.T, args ...string) *nsRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &nsRun{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code = MainContext(ctx, append([]string{"pyro4", "ns"}, args...), strings.NewReader(""), &r.out, &r.err)
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// waitOut waits for stdout to contain substr; it fails if the command ends
// first.
func (r *nsRun) waitOut(t *testing.T, substr string) {
	t.Helper()
	nsPoll(t, fmt.Sprintf("%q on stdout", substr), func() bool {
		select {
		case <-r.done:
			if !strings.Contains(r.out.String(), substr) {
				t.Fatalf("pyro4 ns exited with %d before printing %q\nstdout:\n%s\nstderr:\n%s", r.code, substr, r.out.String(), r.err.String())
			}
		default:
		}
		return strings.Contains(r.out.String(), substr)
	})
}

func (r *nsRun) waitErr(t *testing.T, substr string) {
	t.Helper()
	nsPoll(t, fmt.Sprintf("%q on stderr", substr), func() bool { return strings.Contains(r.err.String(), substr) })
}

// stop ends the command as SIGINT would and returns its exit status.
func (r *nsRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(nsWait):
		t.Fatalf("pyro4 ns did not stop")
	}
	return r.code
}

// runNsToEnd runs a `pyro4 ns` that is expected to fail at startup.
func runNsToEnd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	r := startNsInProcess(t, args...)
	select {
	case <-r.done:
	case <-time.After(nsWait):
		t.Fatalf("pyro4 ns %v kept running", args)
	}
	return r.code, r.out.String(), r.err.String()
}

// nsProc is a child process (our binary or Python's name server) with its
// output collected; it is killed by PID when the test ends.
type nsProc struct {
	cmd      *exec.Cmd
	out, err nsBuffer
	exited   chan struct{}
	code     int
}

func startNsProc(t *testing.T, env []string, name string, args ...string) *nsProc {
	t.Helper()
	p := &nsProc{cmd: exec.Command(name, args...), exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	})
	return p
}

func (p *nsProc) waitOut(t *testing.T, substr string) {
	t.Helper()
	nsPoll(t, fmt.Sprintf("%q from %s", substr, p.cmd.Path), func() bool {
		select {
		case <-p.exited:
			if !strings.Contains(p.out.String(), substr) {
				t.Fatalf("%s exited with %d before printing %q\nstdout:\n%s\nstderr:\n%s", p.cmd.Path, p.code, substr, p.out.String(), p.err.String())
			}
		default:
		}
		return strings.Contains(p.out.String(), substr)
	})
}

// signal sends sig and waits for the process to end; it returns the exit
// status (-1 when a signal ended it).
func (p *nsProc) signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil {
		t.Fatalf("kill %d: %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(nsWait):
		t.Fatalf("%s did not exit after %v", p.cmd.Path, sig)
	}
	return p.code
}

// pyNsArgs runs Pyro4's name server main, as /usr/bin/pyro4-ns does.
func pyNsArgs(args ...string) []string {
	return append([]string{filepath.Join("testdata", "ns_pyro4_ns.py")}, args...)
}

// nsPyClient runs testdata/ns_client.py against the name server at uri.
func nsPyClient(t *testing.T, uri, key string, args ...string) string {
	t.Helper()
	if key == "" {
		key = "-"
	}
	script, err := os.ReadFile(filepath.Join("testdata", "ns_client.py"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pypeer.Run(t, nsWait, pypeer.Env(), string(script), append([]string{uri, key}, args...)...)
	if err != nil {
		t.Fatalf("ns_client.py %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(out)
}

// nsEntry is a registration as the Python client sees it.
type nsEntry struct {
	URI      string
	Metadata []string
}

func (e *nsEntry) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("entry %s: want [uri, metadata]", b)
	}
	if err := json.Unmarshal(pair[0], &e.URI); err != nil {
		return err
	}
	return json.Unmarshal(pair[1], &e.Metadata)
}

// nsPyList returns the name server's registrations through the Python client.
func nsPyList(t *testing.T, uri, key string) map[string]nsEntry {
	t.Helper()
	out := nsPyClient(t, uri, key, "list")
	var m map[string]nsEntry
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("list output %q: %v", out, err)
	}
	return m
}

// nsNames lists the registered names other than the name server's own.
func nsNames(m map[string]nsEntry) string {
	var out []string
	for n, e := range m {
		if n != "Pyro.NameServer" {
			out = append(out, n+"="+e.URI)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// nsWaitNames polls the Python client's view until the names (other than the
// name server's) are want.
func nsWaitNames(t *testing.T, uri, want string) map[string]nsEntry {
	t.Helper()
	var last map[string]nsEntry
	deadline := time.Now().Add(nsWait)
	for {
		last = nsPyList(t, uri, "")
		if nsNames(last) == want {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("registrations are %q, want %q", nsNames(last), want)
		}
	}
}

var nsPortRE = regexp.MustCompile(`:\d+\b`)

// nsNormalize makes two runs' output comparable: a run's own port and
// socket path become placeholders, and with random so does every port (the
// system picked them). Nothing else may differ.
func nsNormalize(out string, port int, sock string, random bool) []string {
	if port != 0 {
		out = regexp.MustCompile(":"+strconv.Itoa(port)+`\b`).ReplaceAllString(out, ":PORT")
	}
	if sock != "" {
		out = strings.ReplaceAll(out, sock, "SOCKET")
	}
	if random {
		out = nsPortRE.ReplaceAllString(out, ":PORT")
	}
	return nsLines(out)
}

func nsLines(out string) []string { return strings.Split(strings.TrimRight(out, "\n"), "\n") }

// nsFreePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago (pypeer.FreePort, below the ephemeral range).
func nsFreePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for len(ports) < n {
		if p := pypeer.FreePort(t); !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

func nsIPv6Loopback() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// nsURI is the name server URI at the bound address.
func nsURI(port int) string { return fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port) }

func writeNsFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func nsStaticReg(name, uri string, metadata ...string) string {
	md, _ := json.Marshal(metadata)
	if metadata == nil {
		md = []byte("[]")
	}
	return fmt.Sprintf("[[registration]]\nname = %q\nuri = %q\nmetadata = %s\n", name, uri, md)
}

// nsURIFrom returns the URI from a "URI = ..." line in out.
func nsURIFrom(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if u, ok := strings.CutPrefix(l, "URI = "); ok {
			return u
		}
	}
	return ""
}

// nsPingURI pings the name server at uri through our locator, with the
// HMAC key it was started with, so a test knows it is serving.
func nsPingURI(t *testing.T, who, uri string, key []byte) {
	t.Helper()
	u, err := wire.ParseURI(uri)
	if err != nil {
		t.Fatalf("%s: URI %q: %v", who, uri, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nsWait)
	defer cancel()
	ns, err := locator.DialNameServer(ctx, u, locator.Options{HMACKey: key})
	if err != nil {
		t.Fatalf("%s: dial %s: %v", who, uri, err)
	}
	defer ns.Close()
	if err := ns.Ping(); err != nil {
		t.Fatalf("%s: ping %s: %v", who, uri, err)
	}
}

// nsServingURI is the URI a server's startup lines say it answers on: the
// internal one behind NAT, else the only one.
func nsServingURI(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if u, ok := strings.CutPrefix(l, "internal URI = "); ok {
			return u
		}
	}
	return nsURIFrom(out)
}

// nsTestKey is the HMAC key a test started a server with: -k's value, else
// PYRO_HMAC_KEY from env; nil for none.
func nsTestKey(args, env []string) []byte {
	for i, a := range args {
		if a == "-k" && i+1 < len(args) {
			return []byte(args[i+1])
		}
	}
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PYRO_HMAC_KEY="); ok {
			return []byte(v)
		}
	}
	return nil
}
