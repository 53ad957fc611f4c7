package commands

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

func TestLocate(t *testing.T) {
	_, port := pypeer.StartPythonNS(t, pypeer.Env())
	bcNSPort, bcPort := pypeer.StartBroadcastPythonNS(t)
	sock := filepath.Join(t.TempDir(), "ns.sock")
	p := pypeer.Start(t, pypeer.Env("PYRO_HMAC_KEY=sesame"), pypeer.NS(t), "-u", sock)
	p.WaitLine(t, "URI =", 20*time.Second)
	// with NS_HOST a Unix socket path, searching skips the local step and
	// its fallback never does a DNS query
	nowhere := "PYRO_NS_HOST=./u:" + filepath.Join(t.TempDir(), "none.sock")
	uriAt := func(p int) string { return fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", p) }

	tests := []struct {
		name   string
		env    []string
		args   []string
		stdout string
		step   string
	}{
		{"host", nil, hostFlags(port), uriAt(port), "host"},
		{"local", []string{"PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=" + strconv.Itoa(port)}, nil, uriAt(port), "local"},
		{"broadcast", []string{nowhere, "PYRO_NS_BCPORT=" + strconv.Itoa(bcPort)}, nil, uriAt(bcNSPort), "broadcast"},
		{"broadcast port flag", []string{nowhere}, []string{"-p", strconv.Itoa(bcPort)}, uriAt(bcNSPort), "broadcast"},
		{"unix socket with key", []string{"PYRO_HMAC_KEY=sesame"}, []string{"-u", sock}, "PYRO:Pyro.NameServer@./u:" + sock, "host"},
		{"NS_HOST after broadcast", []string{"PYRO_NS_HOST=./u:" + sock, "PYRO_HMAC_KEY=sesame"}, nil, "PYRO:Pyro.NameServer@./u:" + sock, "ns-host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clientEnv(t, tt.env...)
			if tt.step != "ns-host" { // that one waits out the broadcast rounds: once is enough
				r := runOurs(t, "", append([]string{"locate"}, tt.args...)...)
				if r.stdout != tt.stdout+"\n" || r.code != 0 || r.stderr != "" {
					t.Fatalf("got %+v, want %s", r, tt.stdout)
				}
			}
			r := runOurs(t, "", append([]string{"locate", "-v", "--json"}, tt.args...)...)
			var got locateJSON
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
				t.Fatalf("--json: %+v: %v", r, err)
			}
			if got.URI != tt.stdout || got.Step != tt.step || !strings.HasSuffix(tt.stdout, "@"+got.Location) {
				t.Fatalf("--json %+v, want %s by %s", got, tt.stdout, tt.step)
			}
			if !strings.Contains(r.stderr, "found by step "+tt.step+" at "+got.Location) {
				t.Fatalf("-v stderr %q", r.stderr)
			}
		})
	}
}

func TestLocateFailures(t *testing.T) {
	_, keyed := pypeer.StartPythonNS(t, pypeer.Env("PYRO_HMAC_KEY=sesame"))
	free := pypeer.FreePort(t)
	tests := []struct {
		name   string
		env    []string
		args   []string
		stderr string
	}{
		{"refused", nil, hostFlags(free), fmt.Sprintf("pyro4 locate: failed to locate the name server (host 127.0.0.1:%d: connection refused)\n", free)},
		{"no key", nil, hostFlags(keyed), "hmac key config not symmetric"},
		{"wrong key", []string{"PYRO_HMAC_KEY=wrong"}, hostFlags(keyed), "message hmac mismatch"},
		{"search", []string{"PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=" + strconv.Itoa(free)}, nil,
			fmt.Sprintf("(local 127.0.0.1:%[1]d: connection refused; local 127.0.1.1:%[1]d: connection refused; broadcast 127.0.0.1:", free)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clientEnv(t, tt.env...)
			r := runOurs(t, "", append([]string{"locate"}, tt.args...)...)
			if r.stdout != "" || r.code != 1 || !strings.Contains(r.stderr, tt.stderr) || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("got %+v, want exit 1 and one line containing %q", r, tt.stderr)
			}
		})
	}
}

// TestLocateOurNSByBroadcast runs `pyro4 ns` with its responder on
// 127.0.0.1 and finds it without a host, by the broadcast step: pyro4
// locate, pyro4 nsc and pyro4-nsc alike. The server listens on 0.0.0.0
// (a responder is not started for a loopback bind), but every datagram
// goes to 127.0.0.1 only.
func TestLocateOurNSByBroadcast(t *testing.T) {
	pypeer.Require(t)
	port, bcPort := pypeer.FreePort(t), pypeer.FreeUDPPort(t)
	nsCleanEnv(t)
	ns := startNsInProcess(t, "-n", "0.0.0.0", "-p", strconv.Itoa(port), "--bchost", "127.0.0.1", "--bcport", strconv.Itoa(bcPort))
	ns.waitOut(t, "NS running on")
	if !strings.Contains(ns.out.String(), fmt.Sprintf("Broadcast server running on 127.0.0.1:%d", bcPort)) {
		t.Fatalf("no responder on 127.0.0.1:%d:\n%s", bcPort, ns.out.String())
	}
	// NS_HOST a missing socket: no local step, and the last one fails fast
	env := []string{"PYRO_NS_BCPORT=" + strconv.Itoa(bcPort), "PYRO_NS_HOST=./u:" + filepath.Join(t.TempDir(), "none.sock")}
	clientEnv(t, env...)
	r := runOurs(t, "", "locate", "-v", "--json")
	var got locateJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("locate: %+v: %v", r, err)
	}
	want := locateJSON{URI: fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port), Step: "broadcast", Location: fmt.Sprintf("127.0.0.1:%d", port)}
	if got != want || !strings.Contains(r.stderr, "found by step broadcast at "+want.Location) {
		t.Fatalf("locate found %+v (stderr %q), want %+v", got, r.stderr, want)
	}
	compareNsc(t, nil, nil, env, []nscStep{step("-v", "ping"), step("-v", "lookup", "Pyro.NameServer")}, portNormalizer())
	r = runOurs(t, "", "nsc", "-v", "ping")
	if wantOut := "Locating name server...\nName server found: " + want.URI + "\nName server ping ok.\nDone.\n"; r.stdout != wantOut || r.code != 0 {
		t.Fatalf("nsc -v ping: %+v, want stdout %q", r, wantOut)
	}
}
