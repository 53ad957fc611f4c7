package commands

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// TestEveryFlagHasHelp walks the whole command model: every command,
// flag and positional argument says what it is for.
func TestEveryFlagHasHelp(t *testing.T) {
	var cli CLI
	parser, err := NewParser(&cli, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		if n.Type == kong.CommandNode && strings.TrimSpace(n.Help) == "" {
			t.Errorf("command %q has no help", n.FullPath())
		}
		for _, f := range n.Flags {
			if strings.TrimSpace(f.Help) == "" {
				t.Errorf("%s: flag --%s has no help", n.FullPath(), f.Name)
			}
		}
		for _, p := range n.Positional {
			if strings.TrimSpace(p.Help) == "" {
				t.Errorf("%s: argument <%s> has no help", n.FullPath(), p.Name)
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(parser.Model.Node)
}

// readmeCommandFlags reads the README's command table: for each row's
// `pyro4 SUB` command, the flags named in backquotes in that row.
func readmeCommandFlags(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Commands\n")
	if !ok {
		t.Fatal(`README.md has no "## Commands" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `pyro4 ([a-z-]+)[^`]*`.*$")
	code := regexp.MustCompile("`[^`]*`")
	flag := regexp.MustCompile(`(?:^|[\s/])(--?[a-z][a-z-]*)`)
	flags := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		sub := m[1]
		flags[sub] = []string{}
		for _, span := range code.FindAllString(m[0], -1) {
			for _, f := range flag.FindAllStringSubmatch(strings.Trim(span, "`"), -1) {
				flags[sub] = append(flags[sub], f[1])
			}
		}
	}
	return flags
}

func TestReadmeFlagsAreInHelp(t *testing.T) {
	rows := readmeCommandFlags(t)
	for _, sub := range []string{"ns", "nsc", "resolve", "locate", "install-links", "install-completions"} {
		if _, ok := rows[sub]; !ok {
			t.Errorf("README's command table has no row for pyro4 %s", sub)
		}
	}
	if len(rows["ns"]) < 10 || len(rows["nsc"]) < 5 {
		t.Fatalf("README table rows name too few flags to be read right: %q", rows)
	}
	for sub, flags := range rows {
		code, help, errOut := runMain(t, sub, "--help")
		if code != 0 {
			t.Errorf("pyro4 %s --help: exit %d, %s", sub, code, errOut)
			continue
		}
		_, flagHelp, _ := strings.Cut(help, "\nFlags:\n")
		for _, f := range flags {
			if !regexp.MustCompile(`(?m)(?:^|[\s,])` + regexp.QuoteMeta(f) + `(?:[=,\s]|$)`).MatchString(flagHelp) {
				t.Errorf("README names %s for pyro4 %s; its --help has no such flag:\n%s", f, sub, flagHelp)
			}
		}
	}
}

func TestBuildVersion(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260102030405-0123456789ab"},
		Settings: vcs("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-01-02T03:04:05Z", "vcs.modified", "false")}
	tests := []struct {
		name                  string
		version, commit, date string // as -ldflags left them
		bi                    *debug.BuildInfo
		want                  string
	}{
		{"release build", "1.2.3", "abc", "2026-02-03T00:00:00Z", checkout, "pyro4 1.2.3 (commit abc, built 2026-02-03T00:00:00Z)"},
		{"go build in a checkout", "dev", "none", "unknown", checkout,
			"pyro4 v0.0.0-20260102030405-0123456789ab (commit " + rev + ", built 2026-01-02T03:04:05Z)"},
		{"uncommitted changes", "dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v1.0.1-0.20260102030405-0123456789ab+dirty"},
			Settings: vcs("vcs.revision", rev, "vcs.time", "2026-01-02T03:04:05Z", "vcs.modified", "true")},
			"pyro4 v1.0.1-0.20260102030405-0123456789ab+dirty (commit " + rev + "-dirty, built 2026-01-02T03:04:05Z)"},
		{"go install module@version", "dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			"pyro4 v1.2.3 (commit none, built unknown)"},
		{"no version control", "dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			"pyro4 dev (commit none, built unknown)"},
		{"no build info", "dev", "none", "unknown", nil, "pyro4 dev (commit none, built unknown)"},
	}
	for _, tt := range tests {
		if got := buildVersion(tt.version, tt.commit, tt.date, tt.bi); got != tt.want {
			t.Errorf("%s: %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestVersionFromBuildInfo builds the binary as `make build` or go build
// would, in a clone of HEAD (the toolchain records no version control in
// a git worktree), and reads --version back.
func TestVersionFromBuildInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and builds the binary")
	}
	root, err := exec.Command("git", "-C", "..", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not a git checkout, so the toolchain records no commit: %v", err)
	}
	src := filepath.Join(t.TempDir(), "src")
	if out, err := exec.Command("git", "clone", "--quiet", "--no-hardlinks", strings.TrimSpace(string(root)), src).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	rev, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	ct, err := exec.Command("git", "-C", src, "log", "-1", "--format=%ct").Output()
	if err != nil {
		t.Fatal(err)
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(string(ct)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "pyro4")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = src
	// the machine's go env may turn stamping off; make build leaves it on
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^pyro4 (v\S+) \(commit ([0-9a-f]{40}), built (\S+)\)\n$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("--version printed %q, want the module version, commit and time", out)
	}
	if want := strings.TrimSpace(string(rev)); string(m[2]) != want {
		t.Errorf("--version names commit %s, HEAD is %s", m[2], want)
	}
	if want := time.Unix(secs, 0).UTC().Format(time.RFC3339); string(m[3]) != want {
		t.Errorf("--version names time %s, HEAD was committed %s", m[3], want)
	}
	if short := strings.TrimSpace(string(rev))[:12]; !strings.HasSuffix(string(m[1]), short) && !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).Match(m[1]) {
		t.Errorf("--version names version %s: neither a tag nor a pseudo-version of %s", m[1], short)
	}
}
