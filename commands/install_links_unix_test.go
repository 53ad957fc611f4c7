//go:build unix

package commands

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the uid and gid the permission test runs as: not root, and
// owning nothing the test makes.
const nobody = 65534

// installLinksAsNobody runs the built binary as uid 65534 on dir, which
// root owns and only root may write, and returns its exit status and
// standard error.
func installLinksAsNobody(t *testing.T, dir string) (int, string) {
	t.Helper()
	bin := buildPyro4(t)
	// the directory must be reachable for that user (the binary's is);
	// t.TempDir makes its directories 0700
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "install-links", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run %s as uid %d: %v", bin, nobody, err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}
