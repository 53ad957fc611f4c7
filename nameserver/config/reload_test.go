package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/persist"
)

// fakeTarget stands in for a server: it keeps the static entries and the
// NAT location, through the same difference rules as the registry.
type fakeTarget struct {
	mu         sync.Mutex
	static     map[string]persist.Entry
	natHost    string
	natPort    int
	natSets    int
	failStatic error // returned by SetStatic, which then changes nothing
}

func (f *fakeTarget) SetStatic(entries []persist.Entry) (added, changed, removed []string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failStatic != nil {
		return nil, nil, nil, f.failStatic
	}
	next := map[string]persist.Entry{}
	for _, e := range entries {
		next[e.Name] = e
		old, ok := f.static[e.Name]
		switch {
		case !ok:
			added = append(added, e.Name)
		case old.URI != e.URI || fmt.Sprint(old.Metadata) != fmt.Sprint(e.Metadata):
			changed = append(changed, e.Name)
		}
	}
	for name := range f.static {
		if _, ok := next[name]; !ok {
			removed = append(removed, name)
		}
	}
	f.static = next
	return added, changed, removed, nil
}

func (f *fakeTarget) SetNAT(host string, port int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.natHost, f.natPort = host, port
	f.natSets++
	return nil
}

// state renders the static entries as "name=uri" in name order, plus NAT.
func (f *fakeTarget) state() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.static {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%s ", n, f.static[n].URI)
	}
	fmt.Fprintf(&b, "nat=%s:%d", f.natHost, f.natPort)
	return b.String()
}

// syncBuffer collects log output from the watcher goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

func (s *syncBuffer) count(substr string) int {
	n := 0
	for _, l := range s.lines() {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func reg(name, uri string) string {
	return fmt.Sprintf("[[registration]]\nname = %q\nuri = %q\n", name, uri)
}

// bound loads a Reloader for a file with text, resolving it with resolve
// (nil: the file over the defaults), and binds it to a fake target; nothing
// watches the file.
func bound(t *testing.T, text string, over ...Layer) (path string, r *Reloader, tg *fakeTarget, log *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "ns.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	log = &syncBuffer{}
	r = &Reloader{
		Path:     path,
		Lookup:   noEnv,
		Over:     over,
		Logger:   slog.New(slog.NewTextHandler(log, nil)),
		Debounce: 20 * time.Millisecond,
	}
	running, err := r.Load()
	if err != nil {
		t.Fatal(err)
	}
	tg = &fakeTarget{natHost: running.Settings().NATHost, natPort: running.Settings().NATPort}
	if err := r.Bind(tg); err != nil {
		t.Fatal(err)
	}
	return path, r, tg, log
}

// watched starts a Reloader on a file with text and returns it with its
// target and log.
func watched(t *testing.T, text string) (path string, r *Reloader, tg *fakeTarget, log *syncBuffer) {
	t.Helper()
	path, r, tg, log = bound(t, text)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Watch did not return")
		}
	})
	return path, r, tg, log
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

const wait = 10 * time.Second

func TestReloadEditInPlace(t *testing.T) {
	path, _, tg, log := watched(t, reg("a", "PYRO:a@h:1")+reg("b", "PYRO:b@h:1"))
	if got := tg.state(); got != "a=PYRO:a@h:1 b=PYRO:b@h:1 nat=:0" {
		t.Fatalf("initial state %q", got)
	}
	writeFile(t, path, reg("a", "PYRO:a@h:2")+reg("c", "PYRO:c@h:1"))
	want := "a=PYRO:a@h:2 c=PYRO:c@h:1 nat=:0"
	waitFor(t, "the edit to apply", wait, func() bool { return tg.state() == want })
	waitFor(t, "the reload log line", wait, func() bool {
		return log.count("added=1 changed=1 removed=1 added_names=c changed_names=a removed_names=b") == 1
	})
}

func TestReloadRenameOver(t *testing.T) {
	path, _, tg, log := watched(t, reg("a", "PYRO:a@h:1"))
	tmp := filepath.Join(filepath.Dir(path), ".ns.toml.swp")
	writeFile(t, tmp, reg("b", "PYRO:b@h:1"))
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the renamed file to apply", wait, func() bool { return tg.state() == "b=PYRO:b@h:1 nat=:0" })
	waitFor(t, "the reload log line", wait, func() bool { return log.count("added=1 changed=0 removed=1 added_names=b removed_names=a") == 1 })
}

func TestReloadDeleteAndRecreate(t *testing.T) {
	path, _, tg, log := watched(t, reg("a", "PYRO:a@h:1"))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removal to be logged", wait, func() bool { return log.count("config file is missing; keeping the running configuration") == 1 })
	if got := tg.state(); got != "a=PYRO:a@h:1 nat=:0" {
		t.Fatalf("state after removal %q", got)
	}
	writeFile(t, path, reg("a", "PYRO:a@h:1")+reg("b", "PYRO:b@h:1"))
	waitFor(t, "the re-created file to apply", wait, func() bool { return tg.state() == "a=PYRO:a@h:1 b=PYRO:b@h:1 nat=:0" })
	if n := log.count("is missing"); n != 1 {
		t.Fatalf("removal logged %d times:\n%s", n, strings.Join(log.lines(), "\n"))
	}
}

func TestReloadBrokenThenFixed(t *testing.T) {
	path, r, tg, log := watched(t, reg("a", "PYRO:a@h:1"))
	for _, tc := range []struct{ text, want string }{
		{reg("a", "PYRO:a@h:1") + "[[registration]]\nname = \"b\"\nuri = \"PYRO:b@h:x\"\n", path + `:6: registration \"b\": invalid uri`},
		{"port = \n", path + ":1: expected value"},
		{"bogus = 1\n" + reg("a", "PYRO:a@h:1"), path + `:1: unknown key \"bogus\"`},
	} {
		writeFile(t, path, tc.text)
		waitFor(t, "the error line "+tc.want, wait, func() bool { return log.count(tc.want) == 1 })
		// Writing the same broken text again is not reported again: once
		// the watcher has read the file after the rewrite, still one line.
		writeFile(t, path, tc.text)
		read := r.checkCount()
		waitFor(t, "the watcher to read the rewritten file", wait, func() bool { return r.checkCount() > read })
		if n := log.count(tc.want); n != 1 {
			t.Fatalf("%d error lines after the same broken text was written again:\n%s", n, strings.Join(log.lines(), "\n"))
		}
		if got := tg.state(); got != "a=PYRO:a@h:1 nat=:0" {
			t.Fatalf("a broken file changed the state: %q", got)
		}
	}
	writeFile(t, path, reg("b", "PYRO:b@h:1"))
	waitFor(t, "the fixed file to apply", wait, func() bool { return tg.state() == "b=PYRO:b@h:1 nat=:0" })
	errs := log.count("level=ERROR")
	if errs != 3 {
		t.Fatalf("%d error lines, want one per broken text:\n%s", errs, strings.Join(log.lines(), "\n"))
	}
	for _, l := range log.lines() {
		if strings.Contains(l, "level=ERROR") && !strings.Contains(l, "keeping the running configuration") {
			t.Fatalf("error line does not say the configuration is kept: %s", l)
		}
	}
}

func TestReloadNATAndRestartSettings(t *testing.T) {
	path, r, tg, log := watched(t, "port = 9090\n"+reg("a", "PYRO:a@h:1"))
	writeFile(t, path, "port = 9191\nstorage = \"bolt:ns.db\"\n[nat]\nhost = \"ext.example\"\nport = 5555\n"+reg("a", "PYRO:a@h:1"))
	waitFor(t, "NAT to apply", wait, func() bool { return tg.state() == "a=PYRO:a@h:1 nat=ext.example:5555" })
	waitFor(t, "the restart warning", wait, func() bool {
		return log.count(`needs a restart" config=`+path+` key=port old=9090 new=9191`) == 1 &&
			log.count(`needs a restart" config=`+path+` key=storage old=memory new=bolt:`+filepath.Dir(path)) == 1 &&
			log.count("needs a restart") == 2
	})
	if log.count("added=0 changed=0 removed=0 nat=ext.example:5555") != 1 {
		t.Fatalf("NAT change not logged:\n%s", strings.Join(log.lines(), "\n"))
	}
	// The running configuration keeps what needs a restart.
	if run := r.Running(); run.Port != 9090 || run.Storage != "memory" || run.NATHost != "ext.example" {
		t.Fatalf("running %+v", run)
	}
	writeFile(t, path, "port = 9191\nstorage = \"bolt:ns.db\"\n"+reg("a", "PYRO:a@h:1"))
	waitFor(t, "NAT removal", wait, func() bool { return tg.state() == "a=PYRO:a@h:1 nat=:0" })
	waitFor(t, "NAT removal log", wait, func() bool { return log.count("added=0 changed=0 removed=0 nat=off") == 1 })
}

func TestReloadOnlyRestartSettings(t *testing.T) {
	path, _, _, log := watched(t, "port = 9090\n")
	writeFile(t, path, "port = 9191\n")
	waitFor(t, "the restart warning", wait, func() bool {
		return log.count(`level=WARN msg="config setting changed: needs a restart" config=`+path+` key=port old=9090 new=9191`) == 1
	})
	if n := log.count("reloaded"); n != 0 {
		t.Fatalf("a change that needs a restart logged as reloaded:\n%s", strings.Join(log.lines(), "\n"))
	}
}

func TestReloadForced(t *testing.T) {
	_, r, tg, log := watched(t, reg("a", "PYRO:a@h:1"))
	r.Reload()
	if n := log.count("config reloaded, no changes"); n != 1 {
		t.Fatalf("forced reload logged %d 'no changes' lines:\n%s", n, strings.Join(log.lines(), "\n"))
	}
	if tg.natSets != 0 {
		t.Fatalf("NAT set %d times without a change", tg.natSets)
	}
}

// TestReloadSymlinkSwap follows a file that is a symbolic link whose target
// is replaced by swapping another link, as a Kubernetes ConfigMap does.
func TestReloadSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		if err := os.MkdirAll(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "v1", "ns.toml"), reg("a", "PYRO:a@h:1"))
	writeFile(t, filepath.Join(dir, "v2", "ns.toml"), reg("b", "PYRO:b@h:1"))
	mustSymlink(t, "v1", filepath.Join(dir, "..data"))
	path := filepath.Join(dir, "ns.toml")
	mustSymlink(t, filepath.Join("..data", "ns.toml"), path)
	r := &Reloader{Path: path, Lookup: noEnv, Debounce: 20 * time.Millisecond}
	if _, err := r.Load(); err != nil {
		t.Fatal(err)
	}
	tg := &fakeTarget{}
	if err := r.Bind(tg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Watch(ctx)
	// Whether the swap happens before the watch is in place or after, it
	// is seen: Watch compares the file with what Load read when it starts.
	mustSymlink(t, "v2", filepath.Join(dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the swapped link to apply", wait, func() bool { return tg.state() == "b=PYRO:b@h:1 nat=:0" })
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	r := &Reloader{Path: filepath.Join(t.TempDir(), "missing.toml")}
	if _, err := r.Load(); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Fatalf("missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "ns.toml")
	writeFile(t, path, "port = x\n")
	r = &Reloader{Path: path}
	if _, err := r.Load(); err == nil || !strings.HasPrefix(err.Error(), path+":1: ") {
		t.Fatalf("broken file: %v", err)
	}
}

// TestReloadEmptyFile: an empty file is a valid configuration with no static
// registrations; it is applied once it has stayed empty for a second look.
func TestReloadEmptyFile(t *testing.T) {
	path, _, tg, log := watched(t, reg("a", "PYRO:a@h:1"))
	writeFile(t, path, "")
	waitFor(t, "the empty file to apply", wait, func() bool { return tg.state() == "nat=:0" })
	waitFor(t, "the reload line", wait, func() bool { return log.count("added=0 changed=0 removed=1 removed_names=a") == 1 })
}

// TestReloadNATRefusedByServer runs a real server on a Unix socket given as
// -u gives it (so the file itself is valid): a [nat] table added to the
// file is refused by the server, the reload says so, and nothing of the
// file is applied or recorded as running.
func TestReloadNATRefusedByServer(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ns.sock")
	srv, err := nameserver.New(nameserver.Options{UnixSocket: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	asFlag := Layer{UnixSocket: Given(sock, FlagSource("-u"))}
	path, r, _, log := bound(t, reg("a", "PYRO:a@h:1"), asFlag)
	if err := r.Bind(ServerTarget(srv)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "[nat]\nhost = \"ext.example\"\n"+reg("b", "PYRO:b@h:1"))
	for range 2 { // refused again while the server cannot take it
		r.Reload()
	}
	want := `level=ERROR msg="config not applied, keeping the running configuration" config=` + path + ` err="nat: NAT ext.example: the name server listens on a Unix socket, which has no NAT"`
	if n := log.count(want); n != 2 || log.count("reloaded") != 0 {
		t.Fatalf("log, want %q twice and no reload:\n%s", want, strings.Join(log.lines(), "\n"))
	}
	if run := r.Running(); run.NATHost != "" || len(run.Static) != 1 {
		t.Fatalf("running %+v", run)
	}
	if srv.URI().String() != srv.InternalURI().String() || !srv.Registry().IsStatic("a") || srv.Registry().IsStatic("b") {
		t.Fatalf("server changed: URI %s, static %v", srv.URI(), srv.Registry().Static())
	}
	writeFile(t, path, reg("b", "PYRO:b@h:1"))
	r.Reload()
	if log.count("added=1 changed=0 removed=1 added_names=b removed_names=a") != 1 || !srv.Registry().IsStatic("b") {
		t.Fatalf("the fixed file was not applied:\n%s", strings.Join(log.lines(), "\n"))
	}
}

// TestReloadStaticRefusedKeepsNAT: when the static registrations are refused
// after the NAT location was set, the location is set back, so a refused
// file changes nothing.
func TestReloadStaticRefusedKeepsNAT(t *testing.T) {
	path, r, tg, log := bound(t, reg("a", "PYRO:a@h:1"))
	tg.failStatic = errors.New("refused")
	writeFile(t, path, "[nat]\nhost = \"ext.example\"\nport = 5\n"+reg("b", "PYRO:b@h:1"))
	r.Reload()
	if got := tg.state(); got != "a=PYRO:a@h:1 nat=:0" || tg.natSets != 2 {
		t.Fatalf("state %q after %d NAT changes", got, tg.natSets)
	}
	if log.count(`not applied, keeping the running configuration" config=`+path+` err="static registrations: refused"`) != 1 || r.Running().NATHost != "" {
		t.Fatalf("running %+v, log:\n%s", r.Running(), strings.Join(log.lines(), "\n"))
	}
}

// TestReloadOverriddenSettings: a setting that a flag or a PYRO_* item
// overrides does not change when the file does, and the reload says which
// and why rather than "no changes" or "needs a restart".
func TestReloadOverriddenSettings(t *testing.T) {
	flags := Layer{Port: Given(7, FlagSource("-p")), NATHost: Given("flag.example", FlagSource("--nathost"))}
	env := Layer{NATPort: Given(0, EnvSource("PYRO_NATPORT"))}
	natOver := []string{`key=nat.host overridden_by="flag --nathost"`, `key=nat.port overridden_by="environment PYRO_NATPORT"`}
	portOver := []string{`key=port overridden_by="flag -p"`}
	for _, tc := range []struct {
		name, text string
		info       string // the reload line, "" for none
		over       []string
	}{
		{"nat", "port = 1\n[nat]\nhost = \"file.example\"\nport = 5555\n", "", natOver},
		{"port", "port = 2\n", "", portOver},
		{"both, with a static change", "port = 3\n[nat]\nhost = \"other.example\"\n" + reg("b", "PYRO:b@h:1"), "config reloaded\" config=CONFIG added=1 changed=0 removed=0 added_names=b", append(portOver, natOver[0])},
		{"file agrees with the flag", "port = 7\n", "config reloaded, no changes\" config=CONFIG", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, r, tg, log := bound(t, "port = 1\n", env, flags)
			writeFile(t, path, tc.text)
			r.Reload()
			lines := strings.Join(log.lines(), "\n")
			const msg = `level=WARN msg="config setting changed in the file, but another source stays in effect" config=`
			for _, o := range tc.over {
				if want := msg + path + " " + o; log.count(want) != 1 {
					t.Errorf("want the line %q:\n%s", want, lines)
				}
			}
			if log.count("overridden_by") != len(tc.over) {
				t.Errorf("want %d overridden lines:\n%s", len(tc.over), lines)
			}
			info := strings.ReplaceAll(tc.info, "CONFIG", path)
			if tc.info != "" && log.count(info) != 1 || tc.info == "" && log.count("reloaded") != 0 {
				t.Errorf("want reload line %q:\n%s", info, lines)
			}
			if log.count("needs a restart") != 0 || tg.natSets != 0 || r.Running().NATHost != "flag.example" {
				t.Errorf("NAT set %d times, running %+v:\n%s", tg.natSets, r.Running(), lines)
			}
		})
	}
}
