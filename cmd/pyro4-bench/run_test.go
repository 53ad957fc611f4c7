package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/wire"
)

func testConfig(t *testing.T, mode string, args ...string) *loadConfig {
	t.Helper()
	cfg, err := parseLoad(mode, append(args, "-q"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.runID = newRunID()
	return cfg
}

func startTestEcho(t *testing.T) *echoServer {
	t.Helper()
	e, err := startEcho("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.close() })
	return e
}

// The echo server answers in step with the client: each reply carries the
// request's sequence number and is a decodable lookup result.
func TestEchoRoundTrips(t *testing.T) {
	e := startTestEcho(t)
	for _, name := range []string{"serpent", "json", "marshal"} {
		t.Run(name, func(t *testing.T) {
			codec, _ := wire.CodecByName(name)
			d := newDialer(e.addr(), nil, time.Second)
			s, err := openSession(d, 0, codec, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			for i := range 300 { // past a carry into the high byte of seq
				v, err := s.call("lookup", []wire.Value{benchName(100, i)}, nil)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if u, err := checkURI(v); err != nil || u != benchURI(0) {
					t.Fatalf("call %d: reply %s, %v", i, wire.Repr(v), err)
				}
			}
			if size := lookupReplySize(codec); size < wire.HeaderSize+22 {
				t.Fatalf("lookup reply size %d", size)
			}
		})
	}
}

// A short run against the echo server stops by itself, counts its
// operations and records no errors.
func TestRunClientsAgainstEcho(t *testing.T) {
	e := startTestEcho(t)
	cfg := testConfig(t, "echo", "-addr", e.addr(), "-c", "3", "-d", "100ms", "-warmup", "20ms")
	w, err := newWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	samples := 0
	start := time.Now()
	r, err := runClients(cfg, w, newDialer(e.addr(), nil, time.Second), func(bool) { samples++ })
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("a 120ms run took %v", el)
	}
	if r.Ops == 0 || r.errorCount() != 0 || samples != 2 {
		t.Fatalf("ops %d, errors %v (%s), samples %d", r.Ops, r.Errors, r.ErrorSample, samples)
	}
	if r.OpsPerSec != float64(r.Ops)/0.1 || r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50 {
		t.Fatalf("inconsistent result %+v", r)
	}
}

// Refused connections are counted, and the clients back off instead of
// spinning until the end of the run.
func TestRunClientsCountsRefusals(t *testing.T) {
	e := startTestEcho(t)
	addr := e.addr()
	e.close() // nothing listens there now
	cfg := testConfig(t, "lookup", "-addr", addr, "-c", "2", "-d", "100ms", "-warmup", "0s")
	w, err := newWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := runClients(cfg, w, newDialer(addr, nil, time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := r.Errors["refused"]
	if r.Ops != 0 || n == 0 || n > 100 {
		t.Fatalf("ops %d, errors %v: want a few refusals", r.Ops, r.Errors)
	}
	if !strings.Contains(r.ErrorSample, "refused") {
		t.Errorf("error sample %q", r.ErrorSample)
	}
}

// A reply that is not the answer asked for is counted as wrong.
func TestWrongAnswerIsAnError(t *testing.T) {
	e := startTestEcho(t)
	// The echo server always answers with the URI of name 0: a lookup
	// client checking its first reply for another name must object.
	cfg := testConfig(t, "lookup", "-addr", e.addr(), "-c", "1", "-d", "50ms", "-warmup", "0s")
	w, err := newWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	next := w.next
	w.next = func(client int, n uint64) ([]byte, int, error) {
		data, _, err := next(client, n)
		return data, 7, err
	}
	r, err := runClients(cfg, w, newDialer(e.addr(), nil, time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors["wrong"] != 1 || !strings.Contains(r.ErrorSample, "wrong answer") {
		t.Fatalf("errors %v, sample %q: want wrong answers", r.Errors, r.ErrorSample)
	}
}

// Against our name server: the setup registers the names in batches (and
// is skipped when they are there), the workloads' answers check out, and a
// register run's names are removed again.
func TestAgainstOurServer(t *testing.T) {
	srv, err := startInProcess("127.0.0.1:0", "memory")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()
	d := newDialer(srv.addr, nil, 5*time.Second)
	// Long enough that a loaded machine (race detector, parallel packages)
	// still completes a churn connection inside the window.
	args := []string{"-addr", srv.addr, "-c", "2", "-d", "500ms", "-warmup", "0s", "-names", "50", "-match", "10", "-batch", "7", "-setup-c", "3", "-verify"}
	for i, wantSkip := range []bool{false, true} {
		skipped, err := setupNames(d, testConfig(t, "lookup", args...), t.Logf)
		if err != nil || skipped != wantSkip {
			t.Fatalf("setup %d: skipped %v, %v", i, skipped, err)
		}
	}
	for _, mode := range []string{"lookup", "list", "churn", "register"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t, mode, args...)
			w, err := newWorkload(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r, err := runClients(cfg, w, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Ops == 0 || r.errorCount() != 0 {
				t.Fatalf("ops %d, errors %v (%s)", r.Ops, r.Errors, r.ErrorSample)
			}
			if mode != "register" {
				return
			}
			n, err := cleanupRegister(d, cfg)
			if err != nil || int64(n) < r.Ops {
				t.Fatalf("removed %d registrations of at least %d: %v", n, r.Ops, err)
			}
		})
	}
}

// An in-process bolt store reports how the run's writes were grouped into
// commits; a memory store has nothing to report.
func TestInProcessStoreStats(t *testing.T) {
	for _, store := range []string{"bolt:" + filepath.Join(t.TempDir(), "ns.db"), "memory"} {
		cfg := testConfig(t, "register", "-inproc", "-s", store, "-c", "4", "-d", "300ms", "-warmup", "0s")
		r, err := runLoad(cfg)
		if err != nil {
			t.Fatalf("%s: %v", store, err)
		}
		if r.Ops == 0 || r.errorCount() != 0 {
			t.Fatalf("%s: ops %d, errors %v (%s)", store, r.Ops, r.Errors, r.ErrorSample)
		}
		var out strings.Builder
		printResult(&out, r)
		if store == "memory" {
			if r.Store != nil || strings.Contains(out.String(), "commits") {
				t.Errorf("memory store reported commits: %+v\n%s", r.Store, out.String())
			}
			continue
		}
		s := r.Store
		if s == nil || s.Writes == 0 || s.Commits == 0 || s.Commits > s.Writes {
			t.Fatalf("bolt store stats %+v for %d registrations", s, r.Ops)
		}
		if want := math.Round(float64(s.Writes)/float64(s.Commits)*100) / 100; s.PerCommit != want {
			t.Errorf("writes per commit %v, want %v", s.PerCommit, want)
		}
		if line := fmt.Sprintf("store       %d writes in %d commits", s.Writes, s.Commits); !strings.Contains(out.String(), line) {
			t.Errorf("text report lacks %q:\n%s", line, out.String())
		}
	}
}
