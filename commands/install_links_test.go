package commands

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// runMain runs the command line in-process and returns its status and output.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(append([]string{"pyro4"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// fakeBinary makes a file to stand in for the running binary, reached
// through an alias symlink as when pyro4 is itself installed via a link, and
// returns the real path the links must point at.
func fakeBinary(t *testing.T) string {
	t.Helper()
	binDir := t.TempDir()
	bin := filepath.Join(binDir, "pyro4")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	alias := filepath.Join(t.TempDir(), "pyro4-alias")
	if err := os.Symlink(bin, alias); err != nil {
		t.Fatal(err)
	}
	old := executable
	executable = func() (string, error) { return alias, nil }
	t.Cleanup(func() { executable = old })
	real, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	return real
}

func assertLink(t *testing.T, path, target string) {
	t.Helper()
	dest, err := os.Readlink(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if dest != target {
		t.Errorf("%s -> %s, want -> %s", path, dest, target)
	}
}

func TestInstallLinksCreates(t *testing.T) {
	target := fakeBinary(t)
	dir := t.TempDir()
	code, out, errOut := runMain(t, "install-links", "-v", dir)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, name := range []string{"pyro4-ns", "pyro4-nsc"} {
		path := filepath.Join(dir, name)
		assertLink(t, path, target)
		if want := "created " + path + " -> " + target + "\n"; !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

func TestInstallLinksDefaultDirIsBinaryDir(t *testing.T) {
	target := fakeBinary(t)
	if code, _, errOut := runMain(t, "install-links"); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	assertLink(t, filepath.Join(filepath.Dir(target), "pyro4-ns"), target)
	assertLink(t, filepath.Join(filepath.Dir(target), "pyro4-nsc"), target)
}

func TestInstallLinksQuietWithoutVerbose(t *testing.T) {
	fakeBinary(t)
	code, out, errOut := runMain(t, "install-links", t.TempDir())
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and silence", code, out, errOut)
	}
}

func TestInstallLinksIdempotent(t *testing.T) {
	target := fakeBinary(t)
	dir := t.TempDir()
	// A relative link made by hand to the same binary counts as correct too.
	rel, err := filepath.Rel(dir, target)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rel, filepath.Join(dir, "pyro4-nsc")); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		code, out, errOut := runMain(t, "install-links", "-v", dir)
		if code != 0 {
			t.Fatalf("run %d: exit %d, stderr %q", run, code, errOut)
		}
		if !strings.Contains(out, "kept "+filepath.Join(dir, "pyro4-nsc")) {
			t.Errorf("run %d: output %q does not report pyro4-nsc kept", run, out)
		}
		if run == 2 && !strings.Contains(out, "kept "+filepath.Join(dir, "pyro4-ns ")) {
			t.Errorf("run 2: output %q does not report pyro4-ns kept", out)
		}
	}
	assertLink(t, filepath.Join(dir, "pyro4-ns"), target)
	assertLink(t, filepath.Join(dir, "pyro4-nsc"), rel)
}

func TestInstallLinksConflicts(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, path string)
		wantErr  string
		forceErr string // "" means --force replaces it
	}{
		{
			name: "regular file",
			setup: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("old python script\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "exists and is a regular file, not a link to pyro4 (use --force to replace it)",
		},
		{
			name: "link elsewhere",
			setup: func(t *testing.T, path string) {
				if err := os.Symlink("/usr/share/pyro4/old-ns", path); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "exists and is a link to /usr/share/pyro4/old-ns, not a link to pyro4 (use --force",
		},
		{
			name: "directory",
			setup: func(t *testing.T, path string) {
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantErr:  "is a directory; remove it yourself",
			forceErr: "is a directory; remove it yourself",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := fakeBinary(t)
			dir := t.TempDir()
			conflict := filepath.Join(dir, "pyro4-ns")
			tc.setup(t, conflict)
			before, _ := os.Lstat(conflict)

			code, _, errOut := runMain(t, "install-links", dir)
			if code == 0 || !strings.Contains(errOut, conflict+" "+tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want failure mentioning %q", code, errOut, tc.wantErr)
			}
			// All or nothing: the other link is not made, the conflict is untouched.
			if _, err := os.Lstat(filepath.Join(dir, "pyro4-nsc")); !os.IsNotExist(err) {
				t.Errorf("pyro4-nsc created despite the refusal (err %v)", err)
			}
			if after, err := os.Lstat(conflict); err != nil || !os.SameFile(before, after) {
				t.Errorf("conflicting %s was modified (err %v)", conflict, err)
			}

			code, out, errOut := runMain(t, "install-links", "--force", "-v", dir)
			if tc.forceErr != "" {
				if code == 0 || !strings.Contains(errOut, tc.forceErr) {
					t.Fatalf("--force: exit %d, stderr %q; want refusal %q", code, errOut, tc.forceErr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("--force: exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, "replaced "+conflict+" (was ") {
				t.Errorf("--force output %q does not report the replacement", out)
			}
			assertLink(t, conflict, target)
			assertLink(t, filepath.Join(dir, "pyro4-nsc"), target)
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp"))
			if len(leftovers) != 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
		})
	}
}

func TestInstallLinksRefusesToReplaceTheBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "pyro4-ns")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := executable
	executable = func() (string, error) { return bin, nil }
	t.Cleanup(func() { executable = old })
	code, _, errOut := runMain(t, "install-links", "--force")
	if code == 0 || !strings.Contains(errOut, "is the pyro4 binary itself") {
		t.Fatalf("exit %d, stderr %q; want refusal to overwrite the binary", code, errOut)
	}
	if fi, err := os.Lstat(bin); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("binary damaged: %v %v", fi, err)
	}
}

func TestInstallLinksBadDirectory(t *testing.T) {
	fakeBinary(t)
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope"), "no such file or directory"},
		{"file", file, "is not a directory"},
		// Fails for root too: a path through a regular file.
		{"under a file", filepath.Join(file, "sub"), "not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runMain(t, "install-links", tc.dir)
			if code == 0 || !strings.Contains(errOut, tc.dir) || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want failure naming %s and %q", code, errOut, tc.dir, tc.want)
			}
		})
	}
}

// TestInstallLinksPermissionDenied runs install-links where this user may
// not write. Root may write anywhere, so as root it runs the built binary as
// uid 65534 (installLinksAsNobody); otherwise in-process in a directory
// made read-only.
func TestInstallLinksPermissionDenied(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("directory permission bits do not apply on Windows")
	}
	dir := t.TempDir()
	want := "pyro4 install-links: cannot create " + filepath.Join(dir, "pyro4-ns") + ": permission denied (run as a user who may write to " + dir
	var code int
	var errOut string
	if os.Geteuid() == 0 {
		code, errOut = installLinksAsNobody(t, dir)
	} else {
		fakeBinary(t)
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		code, _, errOut = runMain(t, "install-links", dir)
	}
	if code != 1 || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q; want exit 1 and one line starting %q", code, errOut, want)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("directory holds %v after the refusal (%v)", entries, err)
	}
}

func TestInstallLinksErrorMessages(t *testing.T) {
	path := filepath.Join("/opt", "bin", "pyro4-ns")
	tests := []struct {
		err  error
		want string
	}{
		{syscall.EACCES, "install-links: cannot create /opt/bin/pyro4-ns: permission denied (run as a user who may write to /opt/bin, or pass another directory: pyro4 install-links DIR)"},
		{syscall.EPERM, "install-links: cannot create /opt/bin/pyro4-ns: permission denied (run as a user who may write to /opt/bin, or pass another directory: pyro4 install-links DIR)"},
		{syscall.EROFS, "install-links: cannot create /opt/bin/pyro4-ns: /opt/bin is on a read-only file system (pass another directory: pyro4 install-links DIR)"},
		{syscall.ENOSPC, "install-links: create /opt/bin/pyro4-ns: symlink /usr/bin/pyro4 /opt/bin/pyro4-ns: " + syscall.ENOSPC.Error()},
	}
	for _, tc := range tests {
		err := linkError(path, &os.LinkError{Op: "symlink", Old: "/usr/bin/pyro4", New: path, Err: tc.err})
		if got := err.Error(); got != filepath.FromSlash(tc.want) {
			t.Errorf("%v: %q\nwant %q", tc.err, got, tc.want)
		}
	}
}

// pyro4Build is the real binary, built once for the package's tests into a
// directory of its own that TestMain removes.
var pyro4Build struct {
	once     sync.Once
	dir, bin string
	err      error
}

// buildPyro4 returns the real binary, for tests of what only a separate
// process shows (argv[0] dispatch, exit codes, signals). Its directory is
// readable by every user: one test runs it as another uid.
func buildPyro4(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the pyro4 binary")
	}
	pyro4Build.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			pyro4Build.err = fmt.Errorf("go tool not found: %w", err)
			return
		}
		if pyro4Build.dir, err = os.MkdirTemp("", "pyro4-test-bin-"); err == nil {
			err = os.Chmod(pyro4Build.dir, 0o755)
		}
		if err != nil {
			pyro4Build.err = err
			return
		}
		bin := filepath.Join(pyro4Build.dir, "pyro4")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/pyro4/pyro4").CombinedOutput(); err != nil {
			pyro4Build.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		pyro4Build.bin = bin
	})
	if pyro4Build.err != nil {
		t.Fatal(pyro4Build.err)
	}
	return pyro4Build.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pyro4Build.dir != "" {
		os.RemoveAll(pyro4Build.dir)
	}
	os.Exit(code)
}

func TestInstalledLinksDispatch(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need extra privileges on Windows")
	}
	bin := buildPyro4(t)
	dir := t.TempDir()
	out, err := exec.Command(bin, "install-links", "-v", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("install-links: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "created "+filepath.Join(dir, "pyro4-nsc")+" -> "+bin) {
		t.Errorf("install-links -v output %q", out)
	}
	tests := []struct{ link, want, notWant string }{
		{"pyro4-nsc", "Usage: pyro4-nsc", "Usage: pyro4-ns "},
		{"pyro4-ns", "Usage: pyro4-ns", "Usage: pyro4-nsc"},
	}
	for _, tc := range tests {
		out, err := exec.Command(filepath.Join(dir, tc.link), "--help").CombinedOutput()
		if err != nil {
			t.Errorf("%s --help: %v\n%s", tc.link, err, out)
			continue
		}
		if !strings.Contains(string(out), tc.want) || strings.Contains(string(out), tc.notWant) {
			t.Errorf("%s --help printed %q; want the %q help", tc.link, out, tc.want)
		}
	}
}
