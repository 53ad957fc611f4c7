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

// TestNsBinary builds the pyro4 binary once and runs the tests that need
// it: signals, kill -9, network namespaces, and comparisons with Pyro4's
// name server run as a process alike.
func TestNsBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "pyro4")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name string
		test func(t *testing.T, bin string)
	}{
		{"StartupMatchesPyro4", testNsStartupMatchesPyro4},
		{"StartupErrorsMatchPyro4", testNsStartupErrorsMatchPyro4},
		{"BroadcastStartupMatchesPyro4", testNsBroadcastStartupMatchesPyro4},
		{"Signals", testNsSignals},
		{"Persistence", testNsPersistence},
		{"CrashDuringBurst", testNsCrashDuringBurst},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, bin) })
	}
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

// testNsStartupMatchesPyro4 runs the built binary and Pyro4's name server
// with the same options and compares what they print, line for line (ports
// and socket paths aside), then stops both with SIGINT.
func testNsStartupMatchesPyro4(t *testing.T, bin string) {
	pypeer.Require(t)
	for _, tc := range []struct {
		name string
		args []string // {PORT} and {SOCKET} are replaced per run
		env  []string
	}{
		{"loopback", []string{"-n", "127.0.0.1", "-p", "{PORT}"}, nil},
		{"random port", []string{"-n", "127.0.0.1", "-p", "0"}, nil},
		{"localhost by default", []string{"-p", "{PORT}"}, nil},
		{"key flag", []string{"-n", "127.0.0.1", "-p", "{PORT}", "-k", "secret"}, nil},
		{"empty key flag", []string{"-n", "127.0.0.1", "-p", "{PORT}", "-k", ""}, nil},
		{"key from environment", []string{"-n", "127.0.0.1", "-p", "{PORT}"}, []string{"PYRO_HMAC_KEY=secret"}},
		{"empty key from environment", []string{"-n", "127.0.0.1", "-p", "{PORT}"}, []string{"PYRO_HMAC_KEY="}},
		{"nat", []string{"-n", "127.0.0.1", "-p", "{PORT}", "--nathost", "ext.example", "--natport", "5555"}, nil},
		{"nat at the bound port", []string{"-n", "127.0.0.1", "-p", "{PORT}", "--nathost", "ext.example"}, nil},
		{"nat from environment", []string{"-n", "127.0.0.1", "-p", "{PORT}"}, []string{"PYRO_NATHOST=ext.example", "PYRO_NATPORT=5556"}},
		{"host and port from environment", nil, []string{"PYRO_HOST=127.0.0.1", "PYRO_NS_PORT={PORT}"}},
		{"unix socket", []string{"-u", "{SOCKET}"}, nil},
		{"ipv6", []string{"-n", "::1", "-p", "{PORT}"}, nil},
		{"no broadcast", []string{"-n", "127.0.0.1", "-p", "{PORT}", "-x"}, nil},
		{"broadcast options on loopback", []string{"-n", "127.0.0.1", "-p", "{PORT}", "--bchost", "127.0.0.1", "--bcport", "0"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "ipv6" && !nsIPv6Loopback() {
				t.Skip("no IPv6 loopback")
			}
			type run struct {
				p    *nsProc
				port int
				sock string
			}
			ports := nsFreePorts(t, 2)
			start := func(name string, pre ...string) run {
				portNum := ports[0]
				port := strconv.Itoa(portNum)
				ports = ports[1:]
				sock := filepath.Join(t.TempDir(), "ns.sock")
				subst := func(s string) string {
					return strings.ReplaceAll(strings.ReplaceAll(s, "{PORT}", port), "{SOCKET}", sock)
				}
				args := slices.Clone(pre)
				for _, a := range tc.args {
					args = append(args, subst(a))
				}
				env := []string{}
				for _, e := range tc.env {
					env = append(env, subst(e))
				}
				return run{startNsProc(t, pypeer.Env(env...), name, args...), portNum, sock}
			}
			ours := start(bin, "ns")
			theirs := start(pypeer.Python, pyNsArgs()...)
			marker := "URI ="
			if strings.Contains(strings.Join(append(slices.Clone(tc.args), tc.env...), " "), "NATHOST") || slices.Contains(tc.args, "--nathost") {
				marker = "external URI ="
			}
			ours.p.waitOut(t, marker)
			theirs.p.waitOut(t, marker)
			random := slices.Contains(tc.args, "0")
			got := nsNormalize(ours.p.out.String(), ours.port, ours.sock, random)
			want := nsNormalize(theirs.p.out.String(), theirs.port, theirs.sock, random)
			if !slices.Equal(got, want) {
				t.Fatalf("pyro4 ns printed\n%s\npyro4-ns printed\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Pyro4 warns about -k through Python's warnings module, which
			// prefixes the source location; the text is the same.
			ourErr, theirErr := ours.p.err.String(), theirs.p.err.String()
			if strings.Contains(theirErr, "UserWarning: "+keyWarning) != (ourErr == "UserWarning: "+keyWarning+"\n") {
				t.Fatalf("stderr differs:\npyro4 ns:\n%s\npyro4-ns:\n%s", ourErr, theirErr)
			}
			if !strings.Contains(theirErr, "UserWarning") && ourErr != "" {
				t.Fatalf("pyro4 ns wrote to stderr:\n%s", ourErr)
			}
			for who, r := range map[string]run{"pyro4 ns": ours, "pyro4-ns": theirs} {
				if code := r.p.signal(t, syscall.SIGINT); code != 0 {
					t.Errorf("%s exited with %d after SIGINT", who, code)
				}
				if lines := nsLines(r.p.out.String()); lines[len(lines)-1] != "NS shut down." {
					t.Errorf("%s's last line after SIGINT is %q", who, lines[len(lines)-1])
				}
			}
		})
	}
}

// testNsStartupErrorsMatchPyro4 compares the exit status (and, where Pyro4
// prints a message rather than a traceback, the message) of bad starts.
func testNsStartupErrorsMatchPyro4(t *testing.T, bin string) {
	pypeer.Require(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name   string
		args   []string
		env    []string
		code   int
		ours   string // in our stderr
		theirs string // in Pyro4's stderr
	}{
		{"port taken", []string{"-n", "127.0.0.1", "-p", takenPort}, nil, 1, "address already in use", "Address already in use"},
		{"key twice", []string{"-n", "127.0.0.1", "-p", "0", "-k", "a"}, []string{"PYRO_HMAC_KEY=b"}, 1,
			"error: don't use -k and PYRO_HMAC_KEY at the same time", "error: don't use -k and PYRO_HMAC_KEY at the same time"},
		{"nat port without host", []string{"-n", "127.0.0.1", "-p", "0", "--natport", "5"}, nil, 1, "a NAT port needs a NAT host", "must provide natport with nathost"},
		{"nat with unix socket", []string{"-u", "/nonexistent/s", "--nathost", "h", "--natport", "5"}, nil, 1, "cannot use a NAT host together with a Unix socket", "cannot use nathost together with unixsocket"},
		{"bad storage", []string{"-n", "127.0.0.1", "-p", "0", "-s", "foo"}, nil, 1, "invalid storage type 'foo'", "invalid storage type 'foo'"},
		{"bad port", []string{"-p", "abc"}, nil, 2, "abc", "invalid integer value: 'abc'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours := startNsProc(t, pypeer.Env(tc.env...), bin, append([]string{"ns"}, tc.args...)...)
			theirs := startNsProc(t, pypeer.Env(tc.env...), pypeer.Python, pyNsArgs(tc.args...)...)
			for _, p := range []*nsProc{ours, theirs} {
				select {
				case <-p.exited:
				case <-time.After(nsWait):
					t.Fatalf("%s kept running", p.cmd.Path)
				}
			}
			if ours.code != tc.code || theirs.code != tc.code {
				t.Fatalf("exit status: pyro4 ns %d, pyro4-ns %d, want %d\n%s\n%s", ours.code, theirs.code, tc.code, ours.err.String(), theirs.err.String())
			}
			if !strings.Contains(ours.err.String(), tc.ours) || !strings.Contains(theirs.err.String(), tc.theirs) {
				t.Fatalf("pyro4 ns stderr:\n%s\npyro4-ns stderr:\n%s", ours.err.String(), theirs.err.String())
			}
			if ours.out.String() != "" {
				t.Fatalf("pyro4 ns printed %q", ours.out.String())
			}
		})
	}
}

// nsNetnsAvailable reports whether the test can make its own network
// namespace, where binding 0.0.0.0 reaches nothing but that namespace's
// loopback.
func nsNetnsAvailable() bool {
	return exec.Command("unshare", "-rn", "sh", "-c", "ip link set lo up").Run() == nil
}

// testNsBroadcastStartupMatchesPyro4 compares the startup of a name server
// that starts its broadcast responder, which needs a non-loopback bind: each
// server runs in a network namespace of its own.
func testNsBroadcastStartupMatchesPyro4(t *testing.T, bin string) {
	pypeer.Require(t)
	if !nsNetnsAvailable() {
		if os.Getenv("CI") == "true" {
			t.Fatal("cannot create a network namespace (unshare -rn): CI must be able to, or the broadcast startup lines go unchecked")
		}
		t.Skip("cannot create a network namespace (unshare -rn)")
	}
	inNetns := []string{"unshare", "-rn", "sh", "-c", `ip link set lo up && exec "$@"`, "sh"}
	for _, args := range [][]string{
		{"-n", "0.0.0.0"},
		{"-n", "0.0.0.0", "-p", "0", "--bchost", "127.0.0.1", "--bcport", "0"},
		{"-n", "0.0.0.0", "--bcport", "9999"},
		{"-n", "0.0.0.0", "-x"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ourArgs := append(slices.Clone(inNetns[1:]), append([]string{bin, "ns"}, args...)...)
			theirArgs := append(slices.Clone(inNetns[1:]), append([]string{pypeer.Python}, pyNsArgs(args...)...)...)
			ours := startNsProc(t, pypeer.Env(), inNetns[0], ourArgs...)
			theirs := startNsProc(t, pypeer.Env(), inNetns[0], theirArgs...)
			ours.waitOut(t, "URI =")
			theirs.waitOut(t, "URI =")
			// Each server has a namespace of its own, so both use the same
			// ports; only ports the system picked differ.
			random := slices.Contains(args, "0")
			got, want := nsNormalize(ours.out.String(), 0, "", random), nsNormalize(theirs.out.String(), 0, "", random)
			if !slices.Equal(got, want) {
				t.Fatalf("pyro4 ns printed\n%s\npyro4-ns printed\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if !slices.Contains(args, "-x") && !strings.HasPrefix(got[0], "Broadcast server running on ") {
				t.Fatalf("no broadcast server line: %q", got[0])
			}
			if ours.signal(t, syscall.SIGTERM) != 0 {
				t.Fatalf("exit status %d after SIGTERM\n%s", ours.code, ours.err.String())
			}
		})
	}
}

// nsURI is the name server URI at the bound address.
func nsURI(port int) string { return fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port) }

func writeNsFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNsPrecedence checks flag > PYRO_* environment > config file > default
// for the bind address and the NAT location.
func TestNsPrecedence(t *testing.T) {
	ports := nsFreePorts(t, 3)
	file, env, flag := ports[0], ports[1], ports[2]
	cfg := filepath.Join(t.TempDir(), "ns.toml")
	writeNsFile(t, cfg, fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\n[nat]\nhost = \"file.example\"\nport = 1111\n", file))
	envItems := []string{"PYRO_HOST=localhost", "PYRO_NS_PORT=" + strconv.Itoa(env), "PYRO_NATHOST=env.example", "PYRO_NATPORT=2222"}
	flags := []string{"-n", "127.0.0.1", "-p", strconv.Itoa(flag), "--nathost", "flag.example", "--natport", "3333"}
	for _, tc := range []struct {
		name               string
		config, env, flags bool
		internal, ext      string
	}{
		{"file", true, false, false, fmt.Sprintf("127.0.0.1:%d", file), "file.example:1111"},
		{"env over file", true, true, false, fmt.Sprintf("localhost:%d", env), "env.example:2222"},
		{"flags over env and file", true, true, true, fmt.Sprintf("127.0.0.1:%d", flag), "flag.example:3333"},
		{"flags over file", true, false, true, fmt.Sprintf("127.0.0.1:%d", flag), "flag.example:3333"},
		{"env over defaults", false, true, false, fmt.Sprintf("localhost:%d", env), "env.example:2222"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env {
				nsCleanEnv(t, envItems...)
			} else {
				nsCleanEnv(t)
			}
			var args []string
			if tc.config {
				args = append(args, "--config", cfg)
			}
			if tc.flags {
				args = append(args, flags...)
			}
			r := startNsInProcess(t, args...)
			r.waitOut(t, "external URI =")
			want := fmt.Sprintf("internal URI = PYRO:Pyro.NameServer@%s\nexternal URI = PYRO:Pyro.NameServer@%s\n", tc.internal, tc.ext)
			if !strings.HasSuffix(r.out.String(), want) {
				t.Fatalf("printed\n%s\nwant it to end with\n%s", r.out.String(), want)
			}
			if code := r.stop(t); code != 0 || !strings.HasSuffix(r.out.String(), "NS shut down.\n") {
				t.Fatalf("stop: exit %d, output\n%s\nstderr\n%s", code, r.out.String(), r.err.String())
			}
		})
	}
}

// TestNsHMACKeyPrecedence checks which key a client must use: -k over
// PYRO_HMAC_KEY over the config file's hmac_key_env.
func TestNsHMACKeyPrecedence(t *testing.T) {
	pypeer.Require(t)
	cfg := filepath.Join(t.TempDir(), "ns.toml")
	writeNsFile(t, cfg, "hmac_key_env = \"NS_TEST_KEY\"\n")
	for _, tc := range []struct {
		name  string
		env   []string
		flags []string
		key   string
	}{
		{"file", nil, nil, "filekey"},
		{"env over file", []string{"PYRO_HMAC_KEY=envkey"}, nil, "envkey"},
		{"flag over file", nil, []string{"-k", "flagkey"}, "flagkey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nsCleanEnv(t, append([]string{"NS_TEST_KEY=filekey"}, tc.env...)...)
			port := pypeer.FreePort(t)
			r := startNsInProcess(t, append([]string{"--config", cfg, "-n", "127.0.0.1", "-p", strconv.Itoa(port)}, tc.flags...)...)
			r.waitOut(t, "URI =")
			if strings.Contains(r.out.String(), "HMAC key not set") {
				t.Fatalf("key not in effect:\n%s", r.out.String())
			}
			if m := nsPyList(t, nsURI(port), tc.key); m["Pyro.NameServer"].URI != nsURI(port) {
				t.Fatalf("list with key %q: %v", tc.key, m)
			}
			for _, other := range []string{"filekey", "envkey", "flagkey"} {
				if other == tc.key {
					continue
				}
				script, _ := os.ReadFile(filepath.Join("testdata", "ns_client.py"))
				out, err := pypeer.Run(t, nsWait, pypeer.Env(), string(script), nsURI(port), other, "list")
				if err == nil || !strings.Contains(out, "hmac") {
					t.Fatalf("list with the wrong key %q: err %v\n%s", other, err, out)
				}
			}
		})
	}
}

// TestNsStartupFailures checks that a server that cannot start says why on
// one line and exits with status 1.
func TestNsStartupFailures(t *testing.T) {
	nsCleanEnv(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.toml")
	writeNsFile(t, broken, "port = 0\n[[registration]]\nname = \"a\"\nuri = \"PYRO:a@h:x\"\n")
	locked := filepath.Join(dir, "locked.db")
	holder := startNsInProcess(t, "-n", "127.0.0.1", "-p", "0", "-s", "bolt:"+locked)
	holder.waitOut(t, "URI =")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"broken config", []string{"--config", broken}, "pyro4 ns: " + broken + ":4: registration \"a\": invalid uri \"PYRO:a@h:x\""},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.toml")}, "pyro4 ns: read config: open " + filepath.Join(dir, "nope.toml") + ": no such file or directory"},
		{"storage directory missing", []string{"-n", "127.0.0.1", "-p", "0", "-s", "bolt:" + filepath.Join(dir, "no", "ns.db")}, "pyro4 ns: storage: "},
		{"python sqlite storage", []string{"-n", "127.0.0.1", "-p", "0", "-s", "sql:" + filepath.Join(dir, "ns.sqlite")},
			"pyro4 ns: storage: storage 'sql:" + filepath.Join(dir, "ns.sqlite") + "' is Pyro4's Python sqlite store, which this name server does not read; use bolt:FILE with a new file instead"},
		{"python dbm storage", []string{"-n", "127.0.0.1", "-p", "0", "-s", "dbm:" + filepath.Join(dir, "ns.dbm")},
			"pyro4 ns: storage: storage 'dbm:" + filepath.Join(dir, "ns.dbm") + "' is Pyro4's Python dbm store, which this name server does not read; use bolt:FILE with a new file instead"},
		{"storage in use", []string{"-n", "127.0.0.1", "-p", "0", "-s", "bolt:" + locked}, "in use"},
		{"bad PYRO item", nil, "PYRO_NS_PORT=\"x\": not an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.args == nil {
				t.Setenv("PYRO_NS_PORT", "x")
			}
			code, stdout, stderr := runNsToEnd(t, tc.args...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant one line containing %q", code, stdout, stderr, tc.want)
			}
		})
	}
	// A refused store makes no file under its name (Python's dbm would add suffixes).
	for _, name := range []string{"ns.sqlite", "ns.dbm"} {
		if made, _ := filepath.Glob(filepath.Join(dir, name+"*")); len(made) != 0 {
			t.Errorf("a refused store made %v", made)
		}
	}
}

func nsStaticReg(name, uri string, metadata ...string) string {
	md, _ := json.Marshal(metadata)
	if metadata == nil {
		md = []byte("[]")
	}
	return fmt.Sprintf("[[registration]]\nname = %q\nuri = %q\nmetadata = %s\n", name, uri, md)
}

// TestNsReload runs a name server with a config file and changes the file
// in every way an operator or an editor does, checking each time, through
// the Python client, that the static registrations follow the file and a
// client's registration is never touched.
func TestNsReload(t *testing.T) {
	pypeer.Require(t)
	nsCleanEnv(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nsctl.toml")
	port := pypeer.FreePort(t)
	head := fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\n", port)
	writeNsFile(t, cfg, head+nsStaticReg("svc.a", "PYRO:a@h:1", "class:A")+nsStaticReg("svc.b", "PYRO:b@h:1"))
	r := startNsInProcess(t, "--config", cfg)
	r.waitOut(t, "URI =")
	uri := nsURI(port)
	if got := nsPyClient(t, uri, "", "register", "client.x", "PYRO:x@h:9", "mine"); got != "ok" {
		t.Fatalf("client register: %s", got)
	}
	m := nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.a=PYRO:a@h:1 svc.b=PYRO:b@h:1")
	if !slices.Equal(m["svc.a"].Metadata, []string{"class:A"}) || !slices.Equal(m["client.x"].Metadata, []string{"mine"}) {
		t.Fatalf("metadata: %+v", m)
	}
	// logged counts how many stderr lines contain substr.
	logged := func(substr string) int { return strings.Count(r.err.String(), substr) }

	t.Run("static names are protected", func(t *testing.T) {
		got := nsPyClient(t, uri, "", "remove", "svc.a")
		if got != "NamingError: name is statically configured: svc.a (edit the config file)" {
			t.Fatalf("remove of a static name: %s", got)
		}
	})
	t.Run("edit in place", func(t *testing.T) {
		writeNsFile(t, cfg, head+nsStaticReg("svc.a", "PYRO:a@h:2", "class:A")+nsStaticReg("svc.c", "PYRO:c@h:1"))
		nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.a=PYRO:a@h:2 svc.c=PYRO:c@h:1")
		r.waitErr(t, "reloaded: added svc.c; changed svc.a; removed svc.b")
	})
	t.Run("rename over", func(t *testing.T) {
		tmp := filepath.Join(dir, ".nsctl.toml.tmp")
		writeNsFile(t, tmp, head+nsStaticReg("svc.d", "PYRO:d@h:1"))
		if err := os.Rename(tmp, cfg); err != nil {
			t.Fatal(err)
		}
		nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.d=PYRO:d@h:1")
		r.waitErr(t, "reloaded: added svc.d; removed svc.a, svc.c")
	})
	t.Run("broken then fixed", func(t *testing.T) {
		for _, tc := range []struct{ text, want string }{
			{head + nsStaticReg("svc.e", "PYRO:e@h:port"), cfg + `:5: registration \"svc.e\": invalid uri`},
			{head + "[[registration]\n", cfg + ":3: "},
			{head + "colour = \"blue\"\n", cfg + `:3: unknown key \"colour\"`},
		} {
			writeNsFile(t, cfg, tc.text)
			r.waitErr(t, tc.want)
			if n := logged(tc.want); n != 1 {
				t.Fatalf("%d lines for one broken file:\n%s", n, r.err.String())
			}
			if got := nsNames(nsPyList(t, uri, "")); got != "client.x=PYRO:x@h:9 svc.d=PYRO:d@h:1" {
				t.Fatalf("a broken file changed the registrations: %s", got)
			}
		}
		writeNsFile(t, cfg, head+nsStaticReg("svc.e", "PYRO:e@h:1"))
		nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.e=PYRO:e@h:1")
	})
	t.Run("delete and re-create", func(t *testing.T) {
		if err := os.Remove(cfg); err != nil {
			t.Fatal(err)
		}
		r.waitErr(t, "config "+cfg+" was removed; keeping the running configuration")
		if got := nsNames(nsPyList(t, uri, "")); got != "client.x=PYRO:x@h:9 svc.e=PYRO:e@h:1" {
			t.Fatalf("removing the file changed the registrations: %s", got)
		}
		writeNsFile(t, cfg, head+nsStaticReg("svc.f", "PYRO:f@h:1", "x", "y"))
		m := nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.f=PYRO:f@h:1")
		if !slices.Equal(m["svc.f"].Metadata, []string{"x", "y"}) {
			t.Fatalf("metadata of svc.f: %v", m["svc.f"].Metadata)
		}
	})
	t.Run("nat", func(t *testing.T) {
		writeNsFile(t, cfg, head+"[nat]\nhost = \"ext.example\"\nport = 5555\n"+nsStaticReg("svc.f", "PYRO:f@h:1", "x", "y"))
		r.waitErr(t, "reloaded: NAT ext.example:5555")
		nsPoll(t, "the name server's own entry to show the NAT location", func() bool {
			return nsPyList(t, uri, "")["Pyro.NameServer"].URI == "PYRO:Pyro.NameServer@ext.example:5555"
		})
		writeNsFile(t, cfg, head+nsStaticReg("svc.f", "PYRO:f@h:1", "x", "y"))
		r.waitErr(t, "reloaded: NAT off")
		nsPoll(t, "the NAT location to go", func() bool { return nsPyList(t, uri, "")["Pyro.NameServer"].URI == uri })
	})
	t.Run("needs a restart", func(t *testing.T) {
		other := pypeer.FreePort(t)
		writeNsFile(t, cfg, fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\nstorage = \"bolt:ns.db\"\n", other)+nsStaticReg("svc.f", "PYRO:f@h:1", "x", "y"))
		r.waitErr(t, fmt.Sprintf(`port (\"%d\" -> \"%d\"), storage (\"memory\" -> \"bolt:%s\") changed: needs a restart`, port, other, filepath.Join(dir, "ns.db")))
		if got := nsNames(nsPyList(t, uri, "")); got != "client.x=PYRO:x@h:9 svc.f=PYRO:f@h:1" {
			t.Fatalf("registrations: %s", got)
		}
	})
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit status %d\n%s", code, r.err.String())
	}
}

// testNsSignals runs the binary: SIGTERM and SIGINT stop it cleanly, with
// "NS shut down." and status 0 (Pyro4 prints that on SIGINT only; SIGTERM
// kills it), and SIGHUP re-reads the config file without stopping.
func testNsSignals(t *testing.T, bin string) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startNsProc(t, pypeer.Env(), bin, "ns", "-n", "127.0.0.1", "-p", "0")
			p.waitOut(t, "URI =")
			if code := p.signal(t, sig); code != 0 || !strings.HasSuffix(p.out.String(), "URI = "+nsURIFrom(p.out.String())+"\nNS shut down.\n") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, p.out.String(), p.err.String())
			}
			if p.err.String() != "" {
				t.Fatalf("stderr:\n%s", p.err.String())
			}
		})
	}
	t.Run("as pyro4-ns", func(t *testing.T) {
		link := filepath.Join(t.TempDir(), "pyro4-ns")
		if err := os.Symlink(bin, link); err != nil {
			t.Fatal(err)
		}
		p := startNsProc(t, pypeer.Env(), link, "-n", "127.0.0.1", "-p", "0", "-x")
		p.waitOut(t, "URI =")
		if code := p.signal(t, syscall.SIGTERM); code != 0 || !strings.HasSuffix(p.out.String(), "\nNS shut down.\n") {
			t.Fatalf("exit %d\n%s", code, p.out.String())
		}
	})
	t.Run("SIGHUP", func(t *testing.T) {
		pypeer.Require(t)
		// The server watches the directory of the file it is given; the
		// edits go through a hard link in another directory, of which
		// inotify tells that directory's watchers nothing, so only SIGHUP
		// can apply them.
		dir := t.TempDir()
		cfg, edit := filepath.Join(dir, "watched", "ns.toml"), filepath.Join(dir, "elsewhere", "ns.toml")
		for _, d := range []string{filepath.Dir(cfg), filepath.Dir(edit)} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		port := pypeer.FreePort(t)
		head := fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\n", port)
		writeNsFile(t, edit, head+nsStaticReg("svc.a", "PYRO:a@h:1"))
		if err := os.Link(edit, cfg); err != nil {
			t.Fatal(err)
		}
		p := startNsProc(t, pypeer.Env(), bin, "ns", "--config", cfg)
		p.waitOut(t, "URI =")
		for _, step := range []struct{ text, log, names string }{
			{head + nsStaticReg("svc.a", "PYRO:a@h:1"), "reloaded: no changes", "svc.a=PYRO:a@h:1"},
			{head + nsStaticReg("svc.b", "PYRO:b@h:2", "m"), "reloaded: added svc.b; removed svc.a", "svc.b=PYRO:b@h:2"},
			{head + nsStaticReg("svc.b", "PYRO:b@h:3", "m"), "reloaded: changed svc.b", "svc.b=PYRO:b@h:3"},
		} {
			writeNsFile(t, edit, step.text)
			if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			line := "config " + cfg + " " + step.log
			nsPoll(t, "the reload after SIGHUP: "+step.log, func() bool { return strings.Contains(p.err.String(), line) })
			// The line is logged once the registry has changed.
			m := nsPyList(t, nsURI(port), "")
			if got := nsNames(m); got != step.names {
				t.Fatalf("after SIGHUP (%s): %s, want %s", step.log, got, step.names)
			}
			if e, ok := m["svc.b"]; ok && !slices.Equal(e.Metadata, []string{"m"}) {
				t.Fatalf("svc.b's metadata: %v", e.Metadata)
			}
		}
		if n := strings.Count(p.err.String(), "reloaded"); n != 3 {
			t.Fatalf("%d reloads for 3 SIGHUPs:\n%s", n, p.err.String())
		}
		if code := p.signal(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d after SIGHUP and SIGTERM\n%s", code, p.err.String())
		}
	})
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
