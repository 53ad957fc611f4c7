package commands

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver/config"
)

// These tests cover the server side of `pyro4 ns`: its log, autoclean,
// the serializers it accepts, and the pyro4-ns link.

// TestNsLogSettings checks which levels each log passes and where it
// writes, for PYRO_LOGLEVEL and PYRO_LOGFILE as Pyro4 names them.
func TestNsLogSettings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ns.log")
	tests := []struct {
		name           string
		env            config.Settings
		server, reload slog.Level // the lowest level each log passes
		toFile         bool
	}{
		{"defaults", config.Settings{}, slog.LevelWarn, slog.LevelInfo, false},
		{"debug", config.Settings{LogLevel: "DEBUG"}, slog.LevelDebug, slog.LevelDebug, false},
		{"info", config.Settings{LogLevel: "INFO"}, slog.LevelInfo, slog.LevelInfo, false},
		{"warning", config.Settings{LogLevel: "WARNING"}, slog.LevelWarn, slog.LevelWarn, false},
		{"error, lower case", config.Settings{LogLevel: "error"}, slog.LevelError, slog.LevelError, false},
		{"critical", config.Settings{LogLevel: "CRITICAL"}, slog.LevelError + 4, slog.LevelError + 4, false},
		{"stderr by name", config.Settings{LogFile: "{stderr}"}, slog.LevelWarn, slog.LevelInfo, false},
		{"file", config.Settings{LogLevel: "INFO", LogFile: file}, slog.LevelInfo, slog.LevelInfo, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			logs, err := openNsLogs(&IO{Stderr: &stderr}, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			for who, pair := range map[string]struct {
				l    *slog.Logger
				want slog.Level
			}{"server": {logs.server, tt.server}, "reload": {logs.reload, tt.reload}} {
				if !pair.l.Enabled(context.Background(), pair.want) || pair.l.Enabled(context.Background(), pair.want-1) {
					t.Errorf("%s log does not start at level %v", who, pair.want)
				}
			}
			logs.server.Log(context.Background(), tt.server, "server line")
			logs.reload.Log(context.Background(), tt.reload, "reload line")
			if err := logs.close(); err != nil {
				t.Fatal(err)
			}
			got := stderr.String()
			if tt.toFile {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if stderr.Len() != 0 {
					t.Errorf("stderr %q with a log file", stderr.String())
				}
				got = string(b)
			}
			if strings.Count(got, `msg="server line"`) != 1 || strings.Count(got, `msg="reload line"`) != 1 {
				t.Errorf("log output %q", got)
			}
		})
	}
	t.Run("appends", func(t *testing.T) {
		b, _ := os.ReadFile(file)
		logs, err := openNsLogs(&IO{Stderr: new(bytes.Buffer)}, config.Settings{LogFile: file})
		if err != nil {
			t.Fatal(err)
		}
		logs.server.Warn("one more")
		logs.close()
		after, _ := os.ReadFile(file)
		if !bytes.HasPrefix(after, b) || !bytes.Contains(after[len(b):], []byte("one more")) {
			t.Errorf("log file not appended to:\n%s", after)
		}
	})
	// said whatever the level
	t.Run("unwritable file falls back to stderr", func(t *testing.T) {
		var stderr bytes.Buffer
		logs, err := openNsLogs(&IO{Stderr: &stderr}, config.Settings{LogLevel: "ERROR", LogFile: filepath.Join(dir, "no", "such", "dir", "ns.log")})
		if err != nil {
			t.Fatal(err)
		}
		logs.server.Error("still logged")
		if out := stderr.String(); !strings.Contains(out, "cannot write to PYRO_LOGFILE") || !strings.Contains(out, "no such file or directory") ||
			!strings.Contains(out, "still logged") {
			t.Errorf("stderr %q", out)
		}
	})
}

// TestNsBadLogLevel: a PYRO_LOGLEVEL that is no level stops the start with
// one line and status 2, as every malformed setting does (Pyro4 fails at
// import with an AttributeError).
func TestNsBadLogLevel(t *testing.T) {
	nsCleanEnv(t, "PYRO_LOGLEVEL=LOUD")
	code, stdout, stderr := runNsToEnd(t, "-n", "127.0.0.1", "-p", "0")
	if code != 2 || stdout != "" || stderr != "pyro4 ns: configuration: PYRO_LOGLEVEL=\"LOUD\": not a log level (DEBUG, INFO, WARNING, ERROR or CRITICAL)\n" {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

// TestNsAutocleanTooSmallMatchesPyro4: PYRO_NS_AUTOCLEAN below 3 ends both
// name servers with status 1 and Pyro4's message.
func TestNsAutocleanTooSmallMatchesPyro4(t *testing.T) {
	pypeer.Require(t)
	theirs := startNsProc(t, pypeer.Env("PYRO_NS_AUTOCLEAN=1"), pypeer.Python, pyNsArgs("-n", "127.0.0.1", "-p", "0", "-x")...)
	select {
	case <-theirs.exited:
	case <-time.After(nsWait):
		t.Fatal("pyro4-ns kept running")
	}
	lines := nsLines(theirs.err.String())
	msg, ok := strings.CutPrefix(lines[len(lines)-1], "ValueError: ")
	if theirs.code != 1 || !ok || msg != "NS_AUTOCLEAN cannot be smaller than 3" {
		t.Fatalf("pyro4-ns: exit %d, stderr:\n%s", theirs.code, theirs.err.String())
	}
	nsCleanEnv(t, "PYRO_NS_AUTOCLEAN=1")
	code, stdout, stderr := runNsToEnd(t, "-n", "127.0.0.1", "-p", "0", "-x")
	if code != 1 || stdout != "" || !strings.HasSuffix(stderr, ": "+msg+"\n") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant one line ending in %q", code, stdout, stderr, msg)
	}
}

// nsFastAutoclean shortens the autoclean timings for the test: a name
// whose server is gone is removed in the second round, 6 s after the start
// with PYRO_NS_AUTOCLEAN=3.
func nsFastAutoclean(t *testing.T) {
	autocleanUnreachable, autocleanLoopDelay = 100*time.Millisecond, 50*time.Millisecond
	t.Cleanup(func() { autocleanUnreachable, autocleanLoopDelay = 0, 0 })
}

// nsDeadURI is a PYRO URI on a loopback port where nothing listens.
func nsDeadURI(t *testing.T) string {
	return fmt.Sprintf("PYRO:gone@127.0.0.1:%d", pypeer.FreePort(t))
}

// TestNsAutocleanLogged runs `pyro4 ns` with PYRO_NS_AUTOCLEAN=3, registers
// a name whose server is gone and one whose server runs through the Python
// client, and checks that the first is removed, the second kept, and the
// removal logged: by default on stderr as a warning, with PYRO_LOGFILE in
// that file.
func TestNsAutocleanLogged(t *testing.T) {
	pypeer.Require(t)
	nsFastAutoclean(t)
	alive, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Close()
	aliveURI := "PYRO:here@" + alive.Addr().String()
	logFile := filepath.Join(t.TempDir(), "ns.log")
	for _, tc := range []struct {
		name string
		env  []string
		file bool
	}{
		{"stderr", nil, false},
		{"log file", []string{"PYRO_LOGFILE=" + logFile, "PYRO_LOGLEVEL=INFO"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nsCleanEnv(t, append([]string{"PYRO_NS_AUTOCLEAN=3"}, tc.env...)...)
			port := pypeer.FreePort(t)
			r := startNsInProcess(t, "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-x")
			r.waitOut(t, "URI =")
			uri, dead := nsURI(port), nsDeadURI(t)
			for name, u := range map[string]string{"svc.dead": dead, "svc.alive": aliveURI} {
				if got := nsPyClient(t, uri, "", "register", name, u); got != "ok" {
					t.Fatalf("register %s: %s", name, got)
				}
			}
			nsWaitNames(t, uri, "svc.alive="+aliveURI)
			log := func() string { return r.err.String() }
			if tc.file {
				log = func() string { b, _ := os.ReadFile(logFile); return string(b) }
			}
			want := fmt.Sprintf(`level=WARN msg="autoclean: unregistered name; cannot connect to its uri" name=svc.dead uri=%s`, dead)
			nsPoll(t, "the removal to be logged", func() bool { return strings.Contains(log(), want) })
			if code := r.stop(t); code != 0 {
				t.Fatalf("exit %d\n%s", code, r.err.String())
			}
			if n := strings.Count(log(), "unregistered"); n != 1 {
				t.Errorf("%d removals logged:\n%s", n, log())
			}
			if tc.file {
				if !strings.Contains(log(), `level=INFO msg="name server running"`) || r.err.String() != "" {
					t.Errorf("log file:\n%s\nstderr:\n%s", log(), r.err.String())
				}
			}
		})
	}
}

// nsProbe runs the serializer probe (shared with the nameserver tests)
// against the name server at uri.
func nsProbe(t *testing.T, uri string) string {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("..", "nameserver", "testdata", "serializer_probe.py"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pypeer.Run(t, nsWait, pypeer.Env(), string(script), uri)
	if err != nil {
		t.Fatalf("serializer_probe.py: %v\n%s", err, out)
	}
	return out
}

// TestNsSerializersMatchPyro4: by default `pyro4 ns` refuses msgpack and
// pickle clients with pyro4-ns's CONNECTFAIL text; with them listed in
// PYRO_SERIALIZERS_ACCEPTED both serve them.
func TestNsSerializersMatchPyro4(t *testing.T) {
	pypeer.Require(t)
	for _, tc := range []struct {
		name  string
		env   []string
		lines []string
	}{
		{"default", nil, []string{
			`["serpent", "ok", 1, "PYRO:Pyro.NameServer@NSLOC"]`,
			`["msgpack", "err", "CommunicationError", "connection to NSLOC rejected: message used serializer that is not accepted: 6"]`,
			`["pickle", "err", "CommunicationError", "connection to NSLOC rejected: message used serializer that is not accepted: 4"]`,
		}},
		{"all accepted", []string{"PYRO_SERIALIZERS_ACCEPTED=serpent,marshal,json,msgpack,pickle"}, []string{
			`["msgpack", "ok", 1, "PYRO:Pyro.NameServer@NSLOC"]`,
			`["pickle", "ok", 1, "PYRO:Pyro.NameServer@NSLOC"]`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, pyPort := pypeer.StartPythonNS(t, pypeer.Env(tc.env...))
			want := nsProbe(t, nsURI(pyPort))
			nsCleanEnv(t, tc.env...)
			port := pypeer.FreePort(t)
			r := startNsInProcess(t, "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-x")
			r.waitOut(t, "URI =")
			if got := nsProbe(t, nsURI(port)); got != want {
				t.Errorf("against pyro4 ns:\n%s\nagainst pyro4-ns:\n%s", got, want)
			}
			for _, l := range tc.lines {
				if !strings.Contains(want, l+"\n") {
					t.Errorf("pyro4-ns did not answer %s:\n%s", l, want)
				}
			}
		})
	}
}
