package commands

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// TestNsBinary builds the pyro4 binary once and runs the tests that need
// it: signals, kill -9, network namespaces, and comparisons with Pyro4's
// name server run as a process alike.
func TestNsBinary(t *testing.T) {
	bin := buildPyro4(t)
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
				// pyro4-ns prints its URI before it enters the request loop
				// that turns SIGINT into a clean shutdown: wait until it
				// answers a ping, or the signal may find it outside the loop.
				nsPingURI(t, who, nsServingURI(r.p.out.String()), nsTestKey(tc.args, tc.env))
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
		pyCode int    // pyro4-ns's exit status where it differs (a usage error it reports by a traceback)
	}{
		{"port taken", []string{"-n", "127.0.0.1", "-p", takenPort}, nil, 1, "address already in use", "Address already in use", 0},
		{"key twice", []string{"-n", "127.0.0.1", "-p", "0", "-k", "a"}, []string{"PYRO_HMAC_KEY=b"}, 2,
			"error: don't use -k and PYRO_HMAC_KEY at the same time", "error: don't use -k and PYRO_HMAC_KEY at the same time", 1},
		{"nat port without host", []string{"-n", "127.0.0.1", "-p", "0", "--natport", "5"}, nil, 1, "a NAT port needs a NAT host", "must provide natport with nathost", 0},
		{"nat with unix socket", []string{"-u", "/nonexistent/s", "--nathost", "h", "--natport", "5"}, nil, 1, "cannot use a NAT host together with a Unix socket", "cannot use nathost together with unixsocket", 0},
		{"bad storage", []string{"-n", "127.0.0.1", "-p", "0", "-s", "foo"}, nil, 2, "invalid storage type 'foo'", "invalid storage type 'foo'", 1},
		{"bad port", []string{"-p", "abc"}, nil, 2, "abc", "invalid integer value: 'abc'", 0},
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
			pyCode := tc.code
			if tc.pyCode != 0 {
				pyCode = tc.pyCode
			}
			if ours.code != tc.code || theirs.code != pyCode {
				t.Fatalf("exit status: pyro4 ns %d, pyro4-ns %d, want %d and %d\n%s\n%s", ours.code, theirs.code, tc.code, pyCode, ours.err.String(), theirs.err.String())
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
// one line and exits with status 2 for a malformed setting, 1 otherwise.
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
		code int // 2 for a malformed setting, 1 for any other failure
		want string
	}{
		{"broken config", []string{"--config", broken}, 2, "pyro4 ns: " + broken + ":4: registration \"a\": invalid uri \"PYRO:a@h:x\""},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.toml")}, 1, "pyro4 ns: read config: open " + filepath.Join(dir, "nope.toml") + ": no such file or directory"},
		{"storage directory is a file", []string{"-n", "127.0.0.1", "-p", "0", "-s", "bolt:" + filepath.Join(broken, "ns.db")}, 1,
			"pyro4 ns: storage: store " + filepath.Join(broken, "ns.db") + ": " + broken + " is not a directory"},
		{"python dbm storage", []string{"-n", "127.0.0.1", "-p", "0", "-s", "dbm:" + filepath.Join(dir, "ns.dbm")}, 1,
			"pyro4 ns: storage: storage 'dbm:" + filepath.Join(dir, "ns.dbm") + "' is Pyro4's dbm store, which this name server does not serve; copy its registrations into a store it serves with: pyro4 migrate dbm:" + filepath.Join(dir, "ns.dbm") + " bolt:FILE (or sql:FILE)"},
		{"storage in use", []string{"-n", "127.0.0.1", "-p", "0", "-s", "bolt:" + locked}, 1, "in use"},
		{"bad PYRO item", nil, 2, "PYRO_NS_PORT=\"x\": not an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.args == nil {
				t.Setenv("PYRO_NS_PORT", "x")
			}
			code, stdout, stderr := runNsToEnd(t, tc.args...)
			if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant one line containing %q", code, stdout, stderr, tc.want)
			}
		})
	}
	// A refused store makes no file under its name (Python's dbm would add suffixes).
	for _, name := range []string{"ns.dbm"} {
		if made, _ := filepath.Glob(filepath.Join(dir, name+"*")); len(made) != 0 {
			t.Errorf("a refused store made %v", made)
		}
	}
}
