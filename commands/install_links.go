package commands

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// linkNames are the multicall names install-links creates: the names the
// Python tools were installed under, so scripts calling them keep working.
var linkNames = []string{"pyro4-ns", "pyro4-nsc"}

// executable locates the running binary; a variable so tests can point the
// links at a binary of their choosing.
var executable = os.Executable

// InstallLinksCmd creates pyro4-ns and pyro4-nsc symlinks to this binary,
// like busybox --install.
type InstallLinksCmd struct {
	Dir     string `arg:"" optional:"" type:"path" predictor:"dir" help:"Directory for the links (default: the directory holding the pyro4 binary)."`
	Force   bool   `short:"f" help:"Replace existing files or links of the same name."`
	Verbose bool   `short:"v" help:"Print each link created, kept or replaced."`
}

// Help is the detailed help of pyro4 install-links.
func (c *InstallLinksCmd) Help() string {
	return "Creates pyro4-ns and pyro4-nsc as symbolic links to this binary, which runs the subcommand a link is named after (pyro4-resolve and pyro4-locate work too when made by hand).\n\n" + exitStatusHelp
}

// linkAction is what install-links will do with one link name.
type linkAction int

const (
	linkCreate  linkAction = iota // nothing there yet
	linkKeep                      // already a link to the binary
	linkReplace                   // something else there, and --force
)

type linkPlan struct {
	path   string
	action linkAction
	was    string // what occupies path, for messages
}

// Run executes the command. Every link is checked before any is touched, so
// a refusal leaves the directory as it was.
func (c *InstallLinksCmd) Run(stdio *IO) error {
	if err := c.run(stdio); err != nil {
		// Every error starts "install-links: ": prefixed as every other
		// command's, "pyro4 install-links: ...".
		return &ExitError{Code: 1, Msg: "pyro4 " + err.Error()}
	}
	return nil
}

func (c *InstallLinksCmd) run(stdio *IO) error {
	target, err := resolvedExecutable()
	if err != nil {
		return err
	}
	dir := c.Dir
	if dir == "" {
		dir = filepath.Dir(target)
	}
	if err := checkLinkDir(dir); err != nil {
		return err
	}
	suffix := ""
	if strings.HasSuffix(strings.ToLower(target), ".exe") {
		suffix = ".exe"
	}

	var plans []linkPlan
	var conflicts []string
	for _, name := range linkNames {
		p, err := planLink(filepath.Join(dir, name+suffix), target, c.Force)
		if err != nil {
			conflicts = append(conflicts, err.Error())
			continue
		}
		plans = append(plans, p)
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("install-links: %s", strings.Join(conflicts, "; "))
	}

	for _, p := range plans {
		if err := applyLink(p, target); err != nil {
			return err
		}
		if c.Verbose {
			switch p.action {
			case linkCreate:
				fmt.Fprintf(stdio.Stdout, "created %s -> %s\n", p.path, target)
			case linkKeep:
				fmt.Fprintf(stdio.Stdout, "kept %s -> %s (already in place)\n", p.path, target)
			case linkReplace:
				fmt.Fprintf(stdio.Stdout, "replaced %s (was %s) -> %s\n", p.path, p.was, target)
			}
		}
	}
	return nil
}

// resolvedExecutable is the running binary's real path: a link made to a
// link would break when the intermediate one is removed.
func resolvedExecutable() (string, error) {
	exe, err := executable()
	if err != nil {
		return "", fmt.Errorf("install-links: locate the running binary: %w", err)
	}
	resolved, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", fmt.Errorf("install-links: resolve %s: %w", exe, err)
	}
	abs, err := filepath.Abs(resolved)
	if err != nil {
		return "", fmt.Errorf("install-links: resolve %s: %w", resolved, err)
	}
	return abs, nil
}

func checkLinkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("install-links: directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("install-links: %s is not a directory", dir)
	}
	return nil
}

// planLink decides what to do at path; an error is a conflict the user has
// to resolve (or override with --force).
func planLink(path, target string, force bool) (linkPlan, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return linkPlan{path: path, action: linkCreate}, nil
	}
	if err != nil {
		return linkPlan{}, fmt.Errorf("%s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		dest, err := os.Readlink(path)
		if err != nil {
			return linkPlan{}, fmt.Errorf("%s: %w", path, err)
		}
		if pointsAt(path, target) {
			return linkPlan{path: path, action: linkKeep}, nil
		}
		return conflictPlan(path, "a link to "+dest, force)
	}
	if fi.IsDir() {
		// Never removed, not even with --force: it may hold anything.
		return linkPlan{}, fmt.Errorf("%s is a directory; remove it yourself if it should be a link", path)
	}
	if tfi, err := os.Stat(target); err == nil && os.SameFile(fi, tfi) {
		return linkPlan{}, fmt.Errorf("%s is the pyro4 binary itself; install pyro4 under another name first", path)
	}
	return conflictPlan(path, "a "+describeMode(fi.Mode()), force)
}

func conflictPlan(path, was string, force bool) (linkPlan, error) {
	if !force {
		return linkPlan{}, fmt.Errorf("%s exists and is %s, not a link to pyro4 (use --force to replace it)", path, was)
	}
	return linkPlan{path: path, action: linkReplace, was: was}, nil
}

// pointsAt reports whether the link at path ends, after every hop, at the
// same file as target.
func pointsAt(path, target string) bool {
	lfi, err := os.Stat(path)
	if err != nil {
		return false
	}
	tfi, err := os.Stat(target)
	if err != nil {
		return false
	}
	return os.SameFile(lfi, tfi)
}

func describeMode(m fs.FileMode) string {
	if m.IsRegular() {
		return "regular file"
	}
	return "special file (" + m.Type().String() + ")"
}

func applyLink(p linkPlan, target string) error {
	switch p.action {
	case linkKeep:
		return nil
	case linkCreate:
		if err := os.Symlink(target, p.path); err != nil {
			return linkError(p.path, err)
		}
		return nil
	default:
		// A new link renamed over the old file: the name is never missing,
		// so a running service that execs pyro4-ns cannot catch it absent.
		tmp := filepath.Join(filepath.Dir(p.path), fmt.Sprintf(".%s.%d.tmp", filepath.Base(p.path), os.Getpid()))
		if err := os.Symlink(target, tmp); err != nil {
			return linkError(p.path, err)
		}
		if err := os.Rename(tmp, p.path); err != nil {
			_ = os.Remove(tmp)
			return linkError(p.path, err)
		}
		return nil
	}
}

// linkError explains the failures a user can act on. EACCES and EPERM both
// mean this user may not write there (EPERM also for a sticky or immutable
// directory); EROFS that nobody may.
func linkError(path string, err error) error {
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("install-links: cannot create %s: permission denied (run as a user who may write to %s, or pass another directory: pyro4 install-links DIR)",
			path, dir)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("install-links: cannot create %s: %s is on a read-only file system (pass another directory: pyro4 install-links DIR)",
			path, dir)
	}
	return fmt.Errorf("install-links: create %s: %w", path, err)
}
