package commands

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

//go:embed testdata/migrate_session.py
var migrateSession string

func migrateScript(t *testing.T, uri, phase string) string {
	t.Helper()
	out, err := pypeer.Run(t, 60*time.Second, pypeer.Env(), migrateSession, uri, phase)
	if err != nil {
		t.Fatalf("migrate_session.py %s: %v\n%s", phase, err, out)
	}
	return strings.TrimSpace(out)
}

// pyNsOn starts the reference pyro4-ns on storage and returns its URI.
func pyNsOn(t *testing.T, storage string) string {
	t.Helper()
	_, port := pypeer.StartPythonNS(t, pypeer.Env(), "-s", storage)
	return fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port)
}

func runMigrate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(buildPyro4(t), append([]string{"migrate"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMigrateRoundTrip copies what the real pyro4-ns wrote with -s sql:
// and with -s dbm: into bolt, from bolt into json, from json into a new
// sqlite file, and serves that with the real pyro4-ns: it lists the same
// registrations, in the same order, as pyro4-ns on its own file. The source
// of every copy is left byte for byte as it was.
func TestMigrateRoundTrip(t *testing.T) {
	pypeer.Require(t)
	for _, kind := range []string{"sql", "dbm"} {
		t.Run(kind, func(t *testing.T) { testMigrateRoundTrip(t, kind) })
	}
}

func testMigrateRoundTrip(t *testing.T, kind string) {
	dir := t.TempDir()
	src := kind + ":" + filepath.Join(dir, "ns."+kind)
	migrateScript(t, pyNsOn(t, src), "write")
	want := migrateScript(t, pyNsOn(t, src), "list") // after a restart, as below
	if !strings.Contains(want, "日本.サービス") {
		t.Fatalf("pyro4-ns listing %s", want)
	}
	srcFile := filepath.Join(dir, "ns."+kind)
	if kind == "dbm" {
		srcFile += ".db" // dbm.ndbm on Berkeley DB
	}

	steps := []struct{ from, to, file string }{
		{src, "bolt:" + filepath.Join(dir, "ns.db"), srcFile},
		{"bolt:" + filepath.Join(dir, "ns.db"), "json:" + filepath.Join(dir, "ns.json"), filepath.Join(dir, "ns.db")},
		{"json:" + filepath.Join(dir, "ns.json"), "sql:" + filepath.Join(dir, "back.sqlite"), filepath.Join(dir, "ns.json")},
	}
	for _, st := range steps {
		before := fileBytes(t, st.file)
		code, stdout, stderr := runMigrate(t, st.from, st.to)
		if code != 0 || stderr != "" {
			t.Fatalf("migrate %s %s: exit %d\n%s%s", st.from, st.to, code, stdout, stderr)
		}
		if w := fmt.Sprintf("copied 5 registrations from %s to %s (including Pyro.NameServer, which a name server replaces with its own at start)\n", st.from, st.to); stdout != w {
			t.Errorf("migrate %s %s printed %q, want %q", st.from, st.to, stdout, w)
		}
		if !bytes.Equal(fileBytes(t, st.file), before) {
			t.Errorf("migrate %s %s changed its source", st.from, st.to)
		}
	}
	got := migrateScript(t, pyNsOn(t, "sql:"+filepath.Join(dir, "back.sqlite")), "list")
	if got != want {
		t.Errorf("pyro4-ns on the migrated file lists\n%s\nwant (pyro4-ns on its own %s file)\n%s", got, kind, want)
	}
}

// TestMigrateRefusals: a destination holding registrations (without
// --merge), a store our running name server holds (as source or
// destination), a dbm destination, bad specs. Every refusal leaves every
// file byte for byte as it was.
func TestMigrateRefusals(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full.json")
	other := filepath.Join(dir, "other.json")
	writeNsFile(t, full, `[{"name": "a", "uri": "PYRO:a@h:1", "metadata": []}]`)
	writeNsFile(t, other, `[{"name": "b", "uri": "PYRO:b@h:1", "metadata": ["m"]}]`)
	held := filepath.Join(dir, "held.db")
	heldSQL := filepath.Join(dir, "held.sqlite")
	bin := buildPyro4(t)
	for _, spec := range []string{"bolt:" + held, "sql:" + heldSQL} {
		p := startNsProc(t, nil, bin, "ns", "-n", "127.0.0.1", "-p", "0", "-x", "-s", spec)
		p.waitOut(t, "NS running on")
	}

	files := []string{full, other, held, heldSQL}
	snapshot := func() map[string][]byte {
		m := map[string][]byte{}
		for _, f := range files {
			m[f] = fileBytes(t, f)
		}
		return m
	}
	before := snapshot()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"non-empty destination", []string{"json:" + other, "json:" + full}, 1, "destination json:" + full + " holds 1 registrations already; use --merge"},
		{"source held by a server", []string{"bolt:" + held, "json:" + filepath.Join(dir, "new.json")}, 1, "in use by another name server"},
		{"destination held by a server", []string{"json:" + other, "bolt:" + held}, 1, "in use by another name server"},
		{"sql source held by a server", []string{"sql:" + heldSQL, "json:" + filepath.Join(dir, "new.json")}, 1, "in use by another name server"},
		{"sql destination held by a server", []string{"json:" + other, "sql:" + heldSQL}, 1, "in use by another name server"},
		{"dbm destination", []string{"json:" + other, "dbm:" + filepath.Join(dir, "x")}, 2, "can only be a source"},
		{"missing source", []string{"sql:" + filepath.Join(dir, "none.sqlite"), "json:" + filepath.Join(dir, "new.json")}, 1, "file does not exist"},
		{"unknown kind", []string{"redis:x", "json:" + full}, 2, "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMigrate(t, tt.args...)
			if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.msg) || !strings.HasPrefix(stderr, "pyro4 migrate: ") {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant exit %d and %q", code, stdout, stderr, tt.code, tt.msg)
			}
			for f, b := range snapshot() {
				if !bytes.Equal(b, before[f]) {
					t.Fatalf("%s changed", f)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "new.json")); err == nil {
				t.Fatal("a refused copy made its destination")
			}
		})
	}

	// --merge adds to the destination; a name in both takes the source's entry.
	writeNsFile(t, other, `[{"name": "b", "uri": "PYRO:b@h:1", "metadata": ["m"]}, {"name": "a", "uri": "PYRO:a@h:2", "metadata": ["n"]}]`)
	if code, stdout, stderr := runMigrate(t, "--merge", "json:"+other, "json:"+full); code != 0 || !strings.Contains(stdout, "copied 2 registrations") {
		t.Fatalf("--merge: exit %d %s%s", code, stdout, stderr)
	}
	got := strings.Join(strings.Fields(string(fileBytes(t, full))), "")
	if w := `[{"name":"a","uri":"PYRO:a@h:2","metadata":["n"]},{"name":"b","uri":"PYRO:b@h:1","metadata":["m"]}]`; got != w {
		t.Errorf("merged file %s, want %s", got, w)
	}
}

// TestMigrateProgress: a large copy reports every 100,000 registrations
// and at the end; a small one prints nothing.
func TestMigrateProgress(t *testing.T) {
	var b bytes.Buffer
	if p := progressPrinter(&b, progressEvery-1); p != nil {
		t.Fatal("progress for a small copy")
	}
	p := progressPrinter(&b, 250000)
	for done := 10000; done <= 250000; done += 10000 {
		p(done)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		got = append(got, l[:strings.Index(l, " (")])
	}
	want := []string{"copied 100000 of 250000 registrations", "copied 200000 of 250000 registrations", "copied 250000 of 250000 registrations"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("progress lines %q, want %q", got, want)
	}
}
