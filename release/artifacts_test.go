package release_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// entry is one member of an archive or package.
type entry struct {
	mode fs.FileMode
	link string // symlink target
	data []byte
}

func checkChecksums(t *testing.T, r *release) {
	data, err := os.ReadFile(filepath.Join(r.dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("checksums.txt: malformed line %q", line)
		}
		listed = append(listed, name)
		content, err := os.ReadFile(filepath.Join(r.dist, name))
		if err != nil {
			t.Errorf("checksums.txt lists %s: %v", name, err)
			continue
		}
		if got := sha256.Sum256(content); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, checksums.txt says %s", name, got, sum)
		}
	}
	var want []string
	for _, goos := range goosList {
		for _, goarch := range goarchList {
			want = append(want, archiveName(r, goos, goarch))
		}
	}
	for _, goarch := range goarchList {
		want = append(want, debName(r, goarch), rpmName(r, goarch))
	}
	slices.Sort(want)
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Errorf("checksums.txt lists\n%q\nwant\n%q", listed, want)
	}
}

func checkArchives(t *testing.T, r *release) {
	// Each archive's files beside the binary, by the source they copy.
	sources := map[string]string{
		"README.md":          "README.md",
		"LICENSE":            "LICENSE",
		"nsctl.toml.example": "nsctl.toml.example",
		"pyro4-ns.service":   "packaging/pyro4-ns.service",
		"nsctl.toml":         "packaging/nsctl.toml",
	}
	for _, goos := range goosList {
		for _, goarch := range goarchList {
			name := archiveName(r, goos, goarch)
			dir := strings.TrimSuffix(strings.TrimSuffix(name, ".zip"), ".tar.gz") + "/"
			bin := "pyro4"
			if goos == "windows" {
				bin += ".exe"
			}
			want := []string{dir + bin}
			for name := range sources {
				want = append(want, dir+name)
			}
			slices.Sort(want)

			entries := readArchive(t, filepath.Join(r.dist, name))
			var got []string
			for n, e := range entries {
				if !e.mode.IsDir() {
					got = append(got, n)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s holds %q, want %q", name, got, want)
				continue
			}
			if goos != "windows" && entries[dir+bin].mode.Perm()&0o111 == 0 {
				t.Errorf("%s: %s is not executable (%v)", name, bin, entries[dir+bin].mode)
			}
			for member, src := range sources {
				sameAsSource(t, name+":"+member, entries[dir+member].data, filepath.Join(r.src, src))
			}
		}
	}
}

func sameAsSource(t *testing.T, where string, got []byte, path string) {
	t.Helper()
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: copy of %s differs from the source", where, filepath.Base(path))
	}
}

// binary returns the pyro4 binary from the archive for goos/goarch.
func binary(t *testing.T, r *release, goos, goarch string) []byte {
	t.Helper()
	name := archiveName(r, goos, goarch)
	dir := strings.TrimSuffix(strings.TrimSuffix(name, ".zip"), ".tar.gz") + "/"
	bin := "pyro4"
	if goos == "windows" {
		bin += ".exe"
	}
	e, ok := readArchive(t, filepath.Join(r.dist, name))[dir+bin]
	if !ok {
		t.Fatalf("%s has no %s", name, bin)
	}
	return e.data
}

func writeBinary(t *testing.T, data []byte, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkStatic(t *testing.T, r *release) {
	fileTool, _ := exec.LookPath("file")
	for _, goos := range goosList {
		for _, goarch := range goarchList {
			path := writeBinary(t, binary(t, r, goos, goarch), "pyro4-"+goos+"-"+goarch)
			// The build settings Go records in every binary.
			info := run(t, "", "go", "version", "-m", path)
			for _, want := range []string{"\tbuild\tCGO_ENABLED=0\n", "\tbuild\t-trimpath=true\n", "\tbuild\tGOOS=" + goos + "\n", "\tbuild\tGOARCH=" + goarch + "\n"} {
				if !strings.Contains(info, want) {
					t.Errorf("%s/%s: go version -m lacks %q:\n%s", goos, goarch, strings.TrimSpace(want), info)
				}
			}
			if goos != "linux" {
				continue
			}
			checkELFStatic(t, path)
			if fileTool != "" {
				if out := run(t, "", fileTool, path); !strings.Contains(out, "statically linked") {
					t.Errorf("%s/%s: file says %q, want statically linked", goos, goarch, out)
				}
			}
		}
	}
}

// checkELFStatic asserts there is no program interpreter (ld.so) and no
// shared library dependency: the binary runs on any Linux, libc or not.
func checkELFStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a program interpreter: dynamically linked", filepath.Base(path))
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		t.Fatal(err)
	}
	if len(libs) != 0 {
		t.Errorf("%s needs shared libraries %q", filepath.Base(path), libs)
	}
}

func checkVersion(t *testing.T, r *release) {
	if !hostTarget() {
		t.Skipf("no build for this host (%s/%s)", runtime.GOOS, runtime.GOARCH)
	}
	name := "pyro4"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	path := writeBinary(t, binary(t, r, runtime.GOOS, runtime.GOARCH), name)
	out := strings.TrimSpace(run(t, "", path, "--version"))
	m := regexp.MustCompile(`^pyro4 (\S+) \(commit (\S+), built (\S+)\)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("--version printed %q, want pyro4 VERSION (commit SHA, built DATE)", out)
	}
	if m[1] != r.version || m[2] != r.commit {
		t.Errorf("--version says version %q commit %q, want %q %q", m[1], m[2], r.version, r.commit)
	}
	built, err := time.Parse(time.RFC3339, m[3])
	if err != nil {
		t.Fatalf("--version build date %q: %v", m[3], err)
	}
	if age := time.Since(built); age < -time.Minute || age > time.Hour {
		t.Errorf("--version build date %s is not the time of this build", built)
	}
}

// readArchive reads a .tar.gz or .zip into memory by member name.
func readArchive(t *testing.T, path string) map[string]entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".zip") {
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return readZip(t, f, fi.Size())
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return readTar(t, gz)
}

func readTar(t *testing.T, r io.Reader) map[string]entry {
	t.Helper()
	entries := map[string]entry{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("tar %s: %v", h.Name, err)
		}
		entries[h.Name] = entry{mode: h.FileInfo().Mode(), link: h.Linkname, data: data}
	}
}

func readZip(t *testing.T, r io.ReaderAt, size int64) map[string]entry {
	t.Helper()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	entries := map[string]entry{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatalf("zip %s: %v", zf.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("zip %s: %v", zf.Name, err)
		}
		entries[zf.Name] = entry{mode: zf.Mode(), data: data}
	}
	return entries
}
