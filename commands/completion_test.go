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

func TestInstallCompletionsHelp(t *testing.T) {
	code, out, errOut := runMain(t, "install-completions", "--help")
	if code != 0 || !strings.Contains(out, "Usage: pyro4 install-completions [<shell>]") {
		t.Fatalf("install-completions --help: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// kongplete's command had an --uninstall flag that did nothing
	_, flags, _ := strings.Cut(out, "Flags:")
	for _, f := range []string{"--uninstall", "--shell"} {
		if strings.Contains(flags, f) {
			t.Errorf("install-completions --help lists %s:\n%s", f, out)
		}
	}
	if !strings.Contains(out, "Nothing is installed") {
		t.Errorf("install-completions --help does not say that it only prints:\n%s", out)
	}
}

// completionBinary makes the running binary appear at a path that needs
// quoting in every shell, as a link to the real pyro4 binary, so the
// snippets' commands can be run.
func completionBinary(t *testing.T) string {
	t.Helper()
	bin := buildPyro4(t)
	dir := filepath.Join(t.TempDir(), `my bin's \dir`)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "pyro4")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	old := executable
	executable = func() (string, error) { return link, nil }
	t.Cleanup(func() { executable = old })
	return link
}

// shellScripts run a snippet in its shell and print what the shell made
// of it: bash and zsh the binary path they recorded, fish and bash the
// candidates for "pyro4 install-l" from running it.
var shellScripts = map[string]string{
	"bash": `spec=$(complete -p pyro4)
cmd=${spec#complete -C }
cmd=${cmd% pyro4}
export COMP_LINE='pyro4 install-l' COMP_POINT=15
eval "$cmd"`,
	"zsh":  `print -r -- "${(Q)${_comps[pyro4]#_bash_complete -C }}"`,
	"fish": `complete -C 'pyro4 install-l'`,
}

func TestInstallCompletionsSnippets(t *testing.T) {
	exe := completionBinary(t)
	tests := []struct {
		shell   string
		args    []string // the shell's own command line
		content string   // the snippet holds this line
		ran     string   // what shellScripts prints
	}{
		{"bash", []string{"--norc", "--noprofile", "-c"}, "complete -C " + shQuote(exe) + " pyro4\n", "install-links\n"},
		{"zsh", []string{"-f", "-c"}, "complete -C " + shQuote(exe) + " pyro4\n", exe + "\n"},
		{"fish", []string{"-N", "-c"}, "    " + fishQuote(exe) + "\n", "install-links\n"},
	}
	for _, tc := range tests {
		t.Run(tc.shell, func(t *testing.T) {
			t.Setenv("SHELL", "/bin/sh") // the argument wins
			code, snippet, errOut := runMain(t, "install-completions", tc.shell)
			if code != 0 || errOut != "" || !strings.Contains(snippet, tc.content) {
				t.Fatalf("exit %d, stderr %q, snippet:\n%s\nwant a line %q", code, errOut, snippet, tc.content)
			}
			sh, err := exec.LookPath(tc.shell)
			if err != nil {
				t.Logf("%s not installed: snippet checked by content only", tc.shell)
				return
			}
			cmd := exec.Command(sh, append(tc.args, snippet+"\n"+shellScripts[tc.shell])...)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "ZDOTDIR="+t.TempDir())
			out, err := cmd.Output()
			if err != nil || string(out) != tc.ran {
				t.Fatalf("%s with the snippet printed %q (%v), want %q", tc.shell, out, err, tc.ran)
			}
		})
	}
}

func TestInstallCompletionsDefaultShell(t *testing.T) {
	tests := []struct {
		shell  string // $SHELL
		code   int
		stdout string // a line of the snippet
		stderr string
	}{
		{"/usr/bin/zsh", 0, "autoload -U +X bashcompinit && bashcompinit\n", ""},
		{"/usr/local/bin/fish", 0, "complete -f -c pyro4 -a \"(__complete_pyro4)\"\n", ""},
		{"/bin/bash", 0, " pyro4\n", ""},
		{"/bin/tcsh", 1, "", "pyro4 install-completions: $SHELL is /bin/tcsh, which has no completion snippet; name the shell: pyro4 install-completions bash|zsh|fish\n"},
	}
	for _, tc := range tests {
		t.Run(tc.shell, func(t *testing.T) {
			t.Setenv("SHELL", tc.shell)
			code, out, errOut := runMain(t, "install-completions")
			if code != tc.code || !strings.Contains(out, tc.stdout) || errOut != tc.stderr {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errOut, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
	code, out, errOut := runMain(t, "install-completions", "tcsh")
	if code != 2 || out != "" || !strings.Contains(errOut, `no completion for shell "tcsh": name one of bash, zsh, fish`) {
		t.Fatalf("unknown shell argument: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestCompletionShellArgument(t *testing.T) {
	got := completeLine(t, "pyro4 install-completions ", len("pyro4 install-completions "))
	slices.Sort(got)
	if want := []string{"bash", "fish", "zsh"}; !slices.Equal(got, want) {
		t.Fatalf("completes the shell argument to %q, want %q", got, want)
	}
}
