package nameserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// startServer runs a server on 127.0.0.1 at a random port (unless opts say
// otherwise) and stops it when the test ends, checking that Serve returned
// cleanly.
func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Host == "" && opts.UnixSocket == "" {
		opts.Host = "127.0.0.1"
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	serveTest(t, s)
	return s
}

// serveTest serves s until the test ends, then closes it and checks that
// Serve returned cleanly.
func serveTest(t testing.TB, s *Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return after Close")
		}
	})
}

// script returns the text of a Python script under testdata.
func script(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// requireCodecs skips (or under CI fails) a test whose serializers have no
// codec in this build.
func requireCodecs(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := wire.CodecByName(n); !ok {
			t.Fatalf("codec %s is not registered", n)
		}
	}
}

// allAccepted accepts every serializer the interop runs use.
func allAccepted(t testing.TB) wire.Accepted {
	t.Helper()
	acc := wire.Accepted{}
	for _, n := range []string{"serpent", "json", "marshal", "msgpack", "pickle"} {
		if c, ok := wire.CodecByName(n); ok {
			acc[c.ID()] = true
		}
	}
	return acc
}

// checkLines parses the JSON-lines output of a check script into label ->
// line, failing on anything that is not a check line or the final DONE.
func checkLines(t testing.TB, out string) (map[string]string, []string) {
	t.Helper()
	lines := map[string]string{}
	var order []string
	done := false
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "DONE" {
			done = true
			continue
		}
		var v []any
		if err := json.Unmarshal([]byte(l), &v); err != nil || len(v) < 2 {
			t.Errorf("unexpected script output line: %s", l)
			continue
		}
		label, _ := v[0].(string)
		if _, dup := lines[label]; dup {
			t.Errorf("label %q printed twice", label)
		}
		lines[label] = l
		order = append(order, label)
	}
	if !done {
		t.Errorf("script did not finish; output:\n%s", out)
	}
	return lines, order
}

// runChecks runs a check script and returns its lines.
func runChecks(t testing.TB, env []string, name string, args ...string) (map[string]string, []string) {
	t.Helper()
	out, err := pypeer.Run(t, 90*time.Second, env, script(t, name), args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return checkLines(t, out)
}

// logRecorder is a slog handler that keeps every record as one line of
// text: the level, the message and the attributes.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	h.mu.Lock()
	h.lines = append(h.lines, b.String())
	h.mu.Unlock()
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// matching returns the recorded lines that contain every one of parts.
func (h *logRecorder) matching(parts ...string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// waitFor polls until cond holds, failing the test after timeout.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
