package persist_test

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/persist"
)

//go:embed testdata/sql_session.py
var sqlSession string

func sqlScript(t *testing.T, uri, phase string) string {
	t.Helper()
	out, err := pypeer.Run(t, 60*time.Second, pypeer.Env(), sqlSession, uri, phase)
	if err != nil {
		t.Fatalf("sql_session.py %s against %s: %v\n%s", phase, uri, err, out)
	}
	return out
}

// startPySQL starts the reference pyro4-ns on the sqlite file path.
func startPySQL(t *testing.T, path string) string {
	t.Helper()
	_, port := pypeer.StartPythonNS(t, pypeer.Env(), "-s", "sql:"+path)
	return fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port)
}

// startOurSQL serves path with this server until stop is called.
func startOurSQL(t *testing.T, path string) (uri string, stop func()) {
	t.Helper()
	store, err := persist.OpenSQL(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := nameserver.New(nameserver.Options{Host: "127.0.0.1", NoBroadcast: true, Store: store})
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return s.URI().String(), stop
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// compareDumps requires the same listings, line for line: names, URIs,
// metadata and order.
func compareDumps(t *testing.T, what, got, want string) {
	t.Helper()
	g, w := strings.Split(strings.TrimSpace(got), "\n"), strings.Split(strings.TrimSpace(want), "\n")
	if len(g) != len(w) {
		t.Fatalf("%s: %d lines, pyro4-ns %d\n got %s\nwant %s", what, len(g), len(w), got, want)
	}
	for i := range w {
		if g[i] != w[i] {
			t.Errorf("%s:\n got %s\nwant %s", what, g[i], w[i])
		}
	}
}

// TestSQLInteropWithPyro4 serves one sqlite file with the reference
// pyro4-ns and with this server in turn: pyro4-ns writes it (non-ASCII
// names, metadata, re-registrations that move rows); this server serves it
// exactly as pyro4-ns does after a restart, and writes to it as pyro4-ns
// writes to its own copy; then pyro4-ns serves the file this server wrote
// exactly as the one it wrote itself.
func TestSQLInteropWithPyro4(t *testing.T) {
	pypeer.Require(t)
	dir := t.TempDir()
	theirs, ours := filepath.Join(dir, "theirs.sqlite"), filepath.Join(dir, "ours.sqlite")

	first := startPySQL(t, theirs)
	sqlScript(t, first, "write1")
	copyFile(t, theirs, ours) // pyro4-ns keeps no connection open between calls

	// Both start on the file: each re-registers its own entry, which moves
	// it to the end.
	py := startPySQL(t, theirs)
	go1, stop := startOurSQL(t, ours)
	compareDumps(t, "served from pyro4-ns's file", sqlScript(t, go1, "dump"), sqlScript(t, py, "dump"))

	sqlScript(t, py, "write2")
	sqlScript(t, go1, "write2")
	compareDumps(t, "after the same writes", sqlScript(t, go1, "dump"), sqlScript(t, py, "dump"))
	stop()

	// pyro4-ns on the file this server wrote, against pyro4-ns on its own.
	pyOurs, pyTheirs := startPySQL(t, ours), startPySQL(t, theirs)
	compareDumps(t, "pyro4-ns on the file this server wrote", sqlScript(t, pyOurs, "dump"), sqlScript(t, pyTheirs, "dump"))
}
