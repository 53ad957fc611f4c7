package release_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/locator"
)

// readmeCommands returns the two commands of the README's front door: the
// first fenced block after the "## The two commands" heading, one command
// per line (comments stripped).
func readmeCommands(t *testing.T) (runCmd, testCmd string) {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "## The two commands")
	if !ok {
		t.Fatal(`README.md has no "## The two commands" section`)
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(after)
	if m == nil {
		t.Fatal("README.md: no sh block in the two-commands section")
	}
	var cmds []string
	for _, line := range strings.Split(m[1], "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			cmds = append(cmds, line)
		}
	}
	if len(cmds) != 2 {
		t.Fatalf("README.md two-commands block has %d commands, want 2: %q", len(cmds), cmds)
	}
	return cmds[0], cmds[1]
}

// TestReadmeCommands runs the README's two commands as written, in a fresh
// clone of HEAD: the run command must bring up a name server on the
// embedded default that answers a Pyro4 PING, and the test command must
// pass. It builds and tests the whole tree again, so it runs with the
// release checks (PYRO4_RELEASE_TEST=1); the nested test run does not
// recurse into it.
func TestReadmeCommands(t *testing.T) {
	runCmd, testCmd := readmeCommands(t)
	if os.Getenv("PYRO4_RELEASE_TEST") != "1" {
		t.Skip("set PYRO4_RELEASE_TEST=1 (or run make release-test) to run the README's commands in a clean clone")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	run(t, "", "git", "clone", "--quiet", "--no-hardlinks", root, src)

	t.Run("run", func(t *testing.T) { checkRunCommand(t, src, runCmd) })
	t.Run("test", func(t *testing.T) {
		cmd := exec.Command("sh", "-c", testCmd)
		cmd.Dir = src
		cmd.Env = append(withoutEnv("PYRO4_RELEASE_TEST"), "PYRO4_RELEASE_TEST=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s in a clean clone: %v\n%s", testCmd, err, tail(out, 60))
		}
		if !strings.Contains(string(out), "ok  \tgithub.com/pyro4/pyro4/wire") {
			t.Fatalf("%s ran, but the wire package's tests are not in its output:\n%s", testCmd, tail(out, 60))
		}
	})
}

// checkRunCommand starts the run command with PYRO_NS_PORT pointing at a free
// port (the command as written binds 9090, which another server on this
// machine may hold), waits for the URI line, pings the server over the wire
// and stops the whole process group by its PID.
func checkRunCommand(t *testing.T, dir, runCmd string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command("sh", "-c", runCmd)
	cmd.Dir = dir
	cmd.Env = append(withoutEnv("PYRO_"), fmt.Sprintf("PYRO_NS_PORT=%d", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	})

	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	want := fmt.Sprintf("URI = PYRO:Pyro.NameServer@localhost:%d", port)
	var seen []string
	deadline := time.After(5 * time.Minute) // a cold build of the binary
	for found := false; !found; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("%q exited before printing %q:\n%s", runCmd, want, strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			found = line == want
		case <-deadline:
			t.Fatalf("%q printed no %q within 5 minutes:\n%s", runCmd, want, strings.Join(seen, "\n"))
		}
	}
	if err := pyroPing(fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Fatalf("the server started by %q does not answer a Pyro4 PING: %v", runCmd, err)
	}
}

// pyroPing connects as a Pyro4 proxy does (CONNECT handshake) and calls the
// name server's ping method.
func pyroPing(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns, err := locator.DialNameServer(ctx, locator.NameServerURI(host, p, ""), locator.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer ns.Close()
	return ns.Ping()
}

func withoutEnv(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
