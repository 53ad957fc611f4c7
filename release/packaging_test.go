package release_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/nameserver/config"
)

// These tests read the packaging sources and run in every `go test`; the
// snapshot test checks that the packages hold exactly these files.

// packagedSource returns the source file .goreleaser.yaml installs at dst.
func packagedSource(t *testing.T, dst string) string {
	t.Helper()
	data, err := os.ReadFile("../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\s*- src: (\S+)\n\s*dst: ` + regexp.QuoteMeta(dst) + `$`)
	m := re.FindSubmatch(data)
	if m == nil {
		t.Fatalf(".goreleaser.yaml installs nothing at %s", dst)
	}
	return filepath.Join("..", string(m[1]))
}

// checkConfigPublishesNothing parses a config file's text and fails if it
// declares static registrations: names no client could remove, published
// by merely enabling the unit.
func checkConfigPublishesNothing(t *testing.T, where string, data []byte) {
	t.Helper()
	c, err := config.Parse(configPath, data, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("%s does not parse: %v", where, err)
	}
	for _, r := range c.Registrations {
		t.Errorf("%s declares the static registration %s -> %s", where, r.Name, r.URI)
	}
}

func TestPackagedConfigPublishesNothing(t *testing.T) {
	src := packagedSource(t, configPath)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	checkConfigPublishesNothing(t, src, data)
	if !bytes.Contains(data, []byte("\n# [[registration]]\n")) {
		t.Errorf("%s no longer documents [[registration]] by a commented-out example", src)
	}
}

// unitKeys reads a systemd unit file into section.key -> values, in order.
func unitKeys(t *testing.T, data []byte) map[string][]string {
	t.Helper()
	keys := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("unit line %d %q is not a key=value in a section", n, line)
			}
			keys[section+"."+k] = append(keys[section+"."+k], v)
		}
	}
	return keys
}

func TestSystemdUnitKeys(t *testing.T) {
	src := packagedSource(t, unitPath)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	keys := unitKeys(t, data)
	want := map[string]string{
		"Service.DynamicUser":    "yes",
		"Service.StateDirectory": "pyro4",
		"Service.Restart":        "on-failure",
		"Service.ExecReload":     "/bin/kill -HUP $MAINPID",
		"Install.WantedBy":       "multi-user.target",
	}
	for k, v := range want {
		if got := keys[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want %q", src, k, got, v)
		}
	}
	execStart := keys["Service.ExecStart"]
	if len(execStart) != 1 {
		t.Fatalf("%s: ExecStart %q, want one", src, execStart)
	}
	// The store lies in the StateDirectory (%S is /var/lib for a system
	// unit, where StateDirectory= creates it), and the config is the file
	// the packages install.
	args := strings.Fields(execStart[0])
	for _, w := range [][2]string{{"-s", "bolt:%S/pyro4/ns.db"}, {"--config", configPath}} {
		i := slices.Index(args, w[0])
		if i < 0 || i+1 >= len(args) || args[i+1] != w[1] {
			t.Errorf("%s: ExecStart %q lacks %s %s", src, execStart[0], w[0], w[1])
		}
	}
	if args[0] != binPath || args[1] != "ns" {
		t.Errorf("%s: ExecStart runs %q, want %s ns", src, execStart[0], binPath)
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit. Where
// /usr/bin/pyro4 is not installed, the copy verified runs a stand-in at
// another path; every other line is the packaged one. verify reports bad
// keys and values as warnings and still exits 0, so any output fails.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed; TestSystemdUnitKeys checks the unit by parsing")
	}
	src := packagedSource(t, unitPath)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := os.Stat(binPath); err != nil {
		stand := filepath.Join(dir, "pyro4")
		if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("ExecStart="+binPath+" "), []byte("ExecStart="+stand+" "))
	}
	unit := filepath.Join(dir, filepath.Base(unitPath))
	if err := os.WriteFile(unit, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", src, err, out)
	}
}
