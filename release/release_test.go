// Package release_test builds a snapshot release with GoReleaser from a
// clone of the repository, after `goreleaser check` of its configuration,
// and checks what a user would download: archives, checksums, static
// binaries with their version stamp, .deb and .rpm packages with the
// pyro4-ns / pyro4-nsc links, the config, the unit and the license.
//
// It takes a minute or more, so it runs only when asked:
//
//	PYRO4_RELEASE_TEST=1 go test -v ./release/    (or: make release-test)
//
// GoReleaser is taken from $GORELEASER, PATH or $(go env GOPATH)/bin.
package release_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The platforms .goreleaser.yaml builds.
var (
	goosList   = []string{"linux", "darwin", "windows"}
	goarchList = []string{"amd64", "arm64"}
)

const (
	packageName = "pyro4-nameserver"
	tag         = "v1.2.3"
	// The snapshot of a commit after tag: snapshot.version_template.
	wantVersion = "1.2.4-next"
)

// release is one snapshot build, shared by the subtests.
type release struct {
	src     string // the clone it was built from
	dist    string
	commit  string
	version string
}

func TestSnapshotRelease(t *testing.T) {
	if os.Getenv("PYRO4_RELEASE_TEST") != "1" {
		t.Skip("set PYRO4_RELEASE_TEST=1 (or run make release-test) to build and check a snapshot release")
	}
	r := buildSnapshot(t)

	t.Run("checksums", func(t *testing.T) { checkChecksums(t, r) })
	t.Run("archives", func(t *testing.T) { checkArchives(t, r) })
	t.Run("binaries are static", func(t *testing.T) { checkStatic(t, r) })
	t.Run("version stamp", func(t *testing.T) { checkVersion(t, r) })
	t.Run("deb", func(t *testing.T) { checkDeb(t, r) })
	t.Run("deb maintainer scripts", func(t *testing.T) { checkDebScripts(t, r) })
	t.Run("rpm", func(t *testing.T) { checkRPM(t, r) })
}

// buildSnapshot clones the repository's HEAD (uncommitted changes are not
// part of a release), tags it and runs the snapshot release in the clone.
func buildSnapshot(t *testing.T) *release {
	t.Helper()
	goreleaser := findGoreleaser(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	run(t, "", "git", "clone", "--quiet", "--no-hardlinks", root, src)
	run(t, src, "git", "tag", tag)
	commit := strings.TrimSpace(run(t, src, "git", "rev-parse", "HEAD"))
	// check fails on errors and on deprecated properties, which a later
	// GoReleaser would refuse.
	run(t, src, goreleaser, "check")

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goreleaser, "release", "--snapshot", "--clean", "--skip=publish,sign")
	cmd.Dir = src
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("goreleaser release --snapshot: %v\n%s", err, out)
	}
	t.Logf("goreleaser snapshot release took %s", time.Since(start).Round(time.Second))

	var meta struct {
		Version string `json:"version"`
		Commit  string `json:"commit"`
	}
	dist := filepath.Join(src, "dist")
	readJSON(t, filepath.Join(dist, "metadata.json"), &meta)
	if meta.Version != wantVersion || meta.Commit != commit {
		t.Fatalf("dist/metadata.json: version %q commit %q, want %q %q", meta.Version, meta.Commit, wantVersion, commit)
	}
	return &release{src: src, dist: dist, commit: commit, version: meta.Version}
}

func findGoreleaser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GORELEASER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("goreleaser"); err == nil {
		return p
	}
	gopath := strings.TrimSpace(run(t, "", "go", "env", "GOPATH"))
	p := filepath.Join(gopath, "bin", "goreleaser")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("goreleaser not found (install: go install github.com/goreleaser/goreleaser/v2@v2.16.0): %v", err)
	}
	return p
}

// run runs a command that must succeed and returns its standard output.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func archiveName(r *release, goos, goarch string) string {
	ext := ".tar.gz"
	if goos == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("pyro4_%s_%s_%s%s", r.version, goos, goarch, ext)
}

// debArch and rpmArch name the package architectures for a GOARCH.
var (
	debArch = map[string]string{"amd64": "amd64", "arm64": "arm64"}
	rpmArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
)

func debName(r *release, goarch string) string {
	return fmt.Sprintf("%s_%s_%s.deb", packageName, strings.ReplaceAll(r.version, "-", "~"), debArch[goarch])
}

func rpmName(r *release, goarch string) string {
	return fmt.Sprintf("%s-%s-1.%s.rpm", packageName, strings.ReplaceAll(r.version, "-", "~"), rpmArch[goarch])
}

// hostTarget reports whether this machine can run one of the built binaries.
func hostTarget() bool {
	for _, goos := range goosList {
		for _, goarch := range goarchList {
			if goos == runtime.GOOS && goarch == runtime.GOARCH {
				return true
			}
		}
	}
	return false
}
