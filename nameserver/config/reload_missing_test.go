package config

import (
	"os"
	"strings"
	"testing"
)

// TestReloadForcedWhileMissing: SIGHUP (a forced reload) after the file was
// deleted says so each time, instead of doing nothing visible, and keeps
// the running configuration.
func TestReloadForcedWhileMissing(t *testing.T) {
	path, r, tg, log := bound(t, reg("a", "PYRO:a@h:1"))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r.Reload()
	r.Reload()
	want := `level=WARN msg="config file is missing; keeping the running configuration until it is back" config=` + path
	if n := log.count(want); n != 2 {
		t.Fatalf("%d lines %q after two forced reloads:\n%s", n, want, strings.Join(log.lines(), "\n"))
	}
	if got := tg.state(); got != "a=PYRO:a@h:1 nat=:0" {
		t.Fatalf("state %q", got)
	}
}

// TestReloadManyNamesBounded: a reload of many static registrations logs
// their count and a bounded sample of names, not every name.
func TestReloadManyNamesBounded(t *testing.T) {
	path, r, _, log := bound(t, "")
	var text strings.Builder
	for i := range 500 {
		text.WriteString(reg("svc."+strings.Repeat("x", 3)+string(rune('a'+i%26))+strings.Repeat("y", i/26), "PYRO:a@h:1"))
	}
	writeFile(t, path, text.String())
	r.Reload()
	lines := log.lines()
	if len(lines) != 1 || !strings.Contains(lines[0], "added=500 changed=0 removed=0 added_names=") ||
		!strings.Contains(lines[0], "(490 more)") || len(lines[0]) > 600 {
		t.Fatalf("reload log:\n%s", strings.Join(lines, "\n"))
	}
}
