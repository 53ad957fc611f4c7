package commands

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// completeLine runs the bash completion protocol in-process: the shell sets
// COMP_LINE and COMP_POINT and reads one candidate per line.
func completeLine(t *testing.T, line string, point int) []string {
	t.Helper()
	t.Setenv(envCompLine, line)
	t.Setenv(envCompPoint, strconv.Itoa(point))
	code, out, errOut := runMain(t)
	if code != 0 || errOut != "" {
		t.Fatalf("COMP_LINE=%q: exit %d, stderr %q", line, code, errOut)
	}
	return strings.Fields(out)
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		point int      // -1: end of line
		exact []string // the whole answer, sorted
		has   []string // or at least these
	}{
		{name: "subcommand", line: "pyro4 ns", point: -1, exact: []string{"ns", "nsc"}},
		{name: "subcommand prefix", line: "pyro4 install-l", point: -1, exact: []string{"install-links"}},
		{name: "flags of a subcommand", line: "pyro4 install-links --", point: -1,
			has: []string{"--force", "--verbose", "--help", "--version"}},
		{name: "one flag", line: "pyro4 install-links -v --fo", point: -1, exact: []string{"--force"}},
		{name: "global flag", line: "pyro4 --vers", point: -1, exact: []string{"--version"}},
		{name: "cursor mid-line", line: "pyro4 ns --force", point: len("pyro4 ns"), exact: []string{"ns", "nsc"}},
		{name: "multicall link name", line: "pyro4-install-links --fo", point: -1, exact: []string{"--force"}},
		{name: "multicall nsc command", line: "pyro4-nsc look", point: -1, exact: []string{"lookup"}},
		{name: "multicall link path", line: "/usr/bin/pyro4-install-links -v --fo", point: -1, exact: []string{"--force"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			point := tc.point
			if point < 0 {
				point = len(tc.line)
			}
			got := completeLine(t, tc.line, point)
			slices.Sort(got)
			if tc.exact != nil && !slices.Equal(got, tc.exact) {
				t.Errorf("COMP_LINE=%q completes to %q, want %q", tc.line, got, tc.exact)
			}
			for _, w := range tc.has {
				if !slices.Contains(got, w) {
					t.Errorf("COMP_LINE=%q completes to %q, missing %q", tc.line, got, w)
				}
			}
		})
	}
}

func TestCompletionDirectoryArgument(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "links"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lfile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	line := "pyro4 install-links " + filepath.Join(dir, "l")
	got := completeLine(t, line, len(line))
	want := filepath.Join(dir, "links") + string(filepath.Separator)
	if !slices.Contains(got, want) {
		t.Errorf("COMP_LINE=%q completes to %q, want %q among them", line, got, want)
	}
	if slices.Contains(got, filepath.Join(dir, "lfile")) {
		t.Errorf("COMP_LINE=%q offers the regular file lfile for a directory argument: %q", line, got)
	}
}

// TestCompletionProtocol drives the built binary the way bash does after
// `complete -C /path/to/pyro4 pyro4`.
func TestCompletionProtocol(t *testing.T) {
	bin := buildPyro4(t)
	tests := []struct{ line, want string }{
		{"pyro4 ns", "ns\nnsc\n"},
		{"pyro4 install-links -v --fo", "--force\n"},
	}
	for _, tc := range tests {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), envCompLine+"="+tc.line, envCompPoint+"="+strconv.Itoa(len(tc.line)))
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("COMP_LINE=%q: %v", tc.line, err)
			continue
		}
		// bash sorts candidates itself; the library emits them in map order.
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		slices.Sort(lines)
		if got := strings.Join(lines, "\n") + "\n"; got != tc.want {
			t.Errorf("COMP_LINE=%q printed %q, want %q (in any order)", tc.line, out, tc.want)
		}
	}
}

func TestInstallCompletions(t *testing.T) {
	code, out, errOut := runMain(t, "install-completions", "--help")
	if code != 0 || !strings.Contains(out, "Usage: pyro4 install-completions") {
		t.Fatalf("install-completions --help: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// The snippet depends on the user's login shell, so either outcome
	// is checked: a `complete -C` line for this binary, or a clear refusal.
	code, out, errOut = runMain(t, "install-completions")
	if code == 0 {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "complete -C "+exe+" pyro4") &&
			!strings.Contains(out, "complete -f -c pyro4") {
			t.Errorf("install-completions printed %q; want a completion snippet for pyro4", out)
		}
		return
	}
	if !strings.Contains(errOut, "shell") {
		t.Errorf("install-completions: exit %d, stderr %q; want a message about the shell", code, errOut)
	}
}
