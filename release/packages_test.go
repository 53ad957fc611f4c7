package release_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// What every package installs, by path.
const (
	binPath    = "/usr/bin/pyro4"
	configPath = "/etc/pyro4/nsctl.toml"
	unitPath   = "/usr/lib/systemd/system/pyro4-ns.service"
)

// The license, where each family looks for it: Debian's copyright file and
// rpm's %license directory.
const (
	debLicensePath = "/usr/share/doc/" + packageName + "/copyright"
	rpmLicensePath = "/usr/share/licenses/" + packageName + "/LICENSE"
)

var linkPaths = []string{"/usr/bin/pyro4-ns", "/usr/bin/pyro4-nsc"}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed: CI must install it (apt-get install rpm file)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func checkDeb(t *testing.T, r *release) {
	dpkgDeb := needTool(t, "dpkg-deb")
	for _, goarch := range goarchList {
		deb := filepath.Join(r.dist, debName(r, goarch))
		fields := run(t, "", dpkgDeb, "--field", deb, "Package", "Architecture")
		if want := "Package: " + packageName + "\nArchitecture: " + debArch[goarch] + "\n"; fields != want {
			t.Errorf("%s control fields %q, want %q", filepath.Base(deb), fields, want)
		}
		ctrl := readTar(t, bytes.NewReader(runBytes(t, dpkgDeb, "--ctrl-tarfile", deb)))
		if got := string(ctrl["./conffiles"].data); got != configPath+"\n" {
			t.Errorf("%s conffiles %q, want %q", filepath.Base(deb), got, configPath+"\n")
		}
		for _, s := range []string{"./preinst", "./postinst", "./prerm", "./postrm"} {
			if e, ok := ctrl[s]; !ok || e.mode.Perm()&0o111 == 0 {
				t.Errorf("%s: maintainer script %s missing or not executable", filepath.Base(deb), s)
			}
		}

		files := readTar(t, bytes.NewReader(runBytes(t, dpkgDeb, "--fsys-tarfile", deb)))
		byPath := map[string]entry{}
		for name, e := range files {
			if !e.mode.IsDir() {
				byPath[strings.TrimPrefix(name, ".")] = e
			}
		}
		checkPackageFiles(t, r, filepath.Base(deb), goarch, byPath, debLicensePath)
	}
}

// checkPackageFiles checks a package's files, given by absolute path: the
// binary, its links, and the config, unit and license as in the source
// tree, the config and unit also as the packaging tests want them.
func checkPackageFiles(t *testing.T, r *release, pkg, goarch string, files map[string]entry, licensePath string) {
	t.Helper()
	var got []string
	for p := range files {
		got = append(got, p)
	}
	want := append([]string{binPath, configPath, unitPath, licensePath}, linkPaths...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s installs %q, want %q", pkg, got, want)
	}
	if e := files[binPath]; e.mode.Perm() != 0o755 || !bytes.Equal(e.data, binary(t, r, "linux", goarch)) {
		t.Errorf("%s: %s (mode %v) is not the executable from the linux/%s archive", pkg, binPath, e.mode, goarch)
	}
	for _, l := range linkPaths {
		if e := files[l]; e.mode&fs.ModeSymlink == 0 || e.link != "pyro4" {
			t.Errorf("%s: %s is %v -> %q, want a symlink to pyro4", pkg, l, e.mode, e.link)
		}
	}
	sources := map[string]string{configPath: "packaging/nsctl.toml", unitPath: "packaging/pyro4-ns.service", licensePath: "LICENSE"}
	for path, src := range sources {
		if e := files[path]; e.mode.Perm() != 0o644 {
			t.Errorf("%s: %s mode %v, want 0644", pkg, path, e.mode)
		}
		sameAsSource(t, pkg+":"+path, files[path].data, filepath.Join(r.src, src))
	}
	if !bytes.HasPrefix(files[licensePath].data, []byte("MIT License\n")) {
		t.Errorf("%s: %s is not the MIT license", pkg, licensePath)
	}
	unit, config := files[unitPath].data, files[configPath].data
	checkUnit(t, pkg+":"+unitPath, unit)
	checkServiceConfig(t, pkg+":"+configPath, config, unit)
	checkConfigPublishesNothing(t, pkg+":"+configPath, config)
}

func runBytes(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

// checkDebScripts runs the packaged maintainer scripts with dpkg-divert and
// systemctl replaced by recorders, as dpkg and rpm would call them.
func checkDebScripts(t *testing.T, r *release) {
	dpkgDeb := needTool(t, "dpkg-deb")
	sh := needTool(t, "sh")
	ctrl := readTar(t, bytes.NewReader(runBytes(t, dpkgDeb, "--ctrl-tarfile", filepath.Join(r.dist, debName(r, "amd64")))))
	dir := t.TempDir()
	for _, s := range []string{"preinst", "postinst", "prerm", "postrm"} {
		if err := os.WriteFile(filepath.Join(dir, s), ctrl["./"+s].data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stubs := filepath.Join(dir, "stubs")
	if err := os.Mkdir(stubs, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "calls.log")
	for _, tool := range []string{"dpkg-divert", "systemctl"} {
		stub := "#!/bin/sh\necho \"" + tool + " $*\" >> \"$CALLS_LOG\"\n"
		if err := os.WriteFile(filepath.Join(stubs, tool), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	divert := func(op string) []string {
		return []string{
			"dpkg-divert --package " + packageName + " " + op + " --rename --divert /usr/bin/pyro4-ns.python3-pyro4 /usr/bin/pyro4-ns",
			"dpkg-divert --package " + packageName + " " + op + " --rename --divert /usr/bin/pyro4-nsc.python3-pyro4 /usr/bin/pyro4-nsc",
		}
	}
	const disable = "systemctl --no-reload disable pyro4-ns.service"
	tests := []struct {
		name    string
		script  string
		arg     string
		dpkg    bool     // run by dpkg (DPKG_MAINTSCRIPT_PACKAGE set), else by rpm
		diverts []string // the dpkg-divert calls, exactly
		disable bool     // whether the unit is disabled
	}{
		{"deb install diverts python3-pyro4's tools", "preinst", "install", true, divert("--add"), false},
		{"deb upgrade keeps the diversions", "preinst", "upgrade", true, divert("--add"), false},
		{"rpm install has no diversions", "preinst", "1", false, nil, false},
		{"deb configure", "postinst", "configure", true, nil, false},
		{"deb remove disables the unit", "prerm", "remove", true, nil, true},
		{"deb upgrade leaves the unit", "prerm", "upgrade", true, nil, false},
		{"rpm erase disables the unit", "prerm", "0", false, nil, true},
		{"rpm upgrade leaves the unit", "prerm", "1", false, nil, false},
		{"deb remove returns the tools", "postrm", "remove", true, divert("--remove"), false},
		{"deb failed install returns the tools", "postrm", "abort-install", true, divert("--remove"), false},
		{"deb upgrade keeps the tools diverted", "postrm", "upgrade", true, nil, false},
		{"deb purge after remove", "postrm", "purge", true, nil, false},
		{"rpm erase has no diversions", "postrm", "0", false, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(logFile)
			cmd := exec.Command(sh, filepath.Join(dir, tc.script), tc.arg)
			cmd.Env = []string{"PATH=" + stubs + ":/usr/sbin:/usr/bin:/sbin:/bin", "CALLS_LOG=" + logFile}
			if tc.dpkg {
				cmd.Env = append(cmd.Env, "DPKG_MAINTSCRIPT_PACKAGE="+packageName)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s %s: %v\n%s", tc.script, tc.arg, err, out)
			}
			logged, err := os.ReadFile(logFile)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			var diverts []string
			disabled := false
			for _, call := range strings.Split(strings.TrimSpace(string(logged)), "\n") {
				switch {
				case strings.HasPrefix(call, "dpkg-divert "):
					diverts = append(diverts, call)
				case call == disable:
					disabled = true
				}
			}
			if !slices.Equal(diverts, tc.diverts) {
				t.Errorf("%s %s called\n%q\nwant\n%q", tc.script, tc.arg, diverts, tc.diverts)
			}
			if disabled != tc.disable {
				t.Errorf("%s %s: unit disabled = %v, want %v", tc.script, tc.arg, disabled, tc.disable)
			}
		})
	}
}

func checkRPM(t *testing.T, r *release) {
	rpm := needTool(t, "rpm")
	rpm2archive := needTool(t, "rpm2archive") // Debian's rpm depends on rpm2cpio, which has it
	for _, goarch := range goarchList {
		pkg := filepath.Join(r.dist, rpmName(r, goarch))
		head := run(t, "", rpm, "-qp", "--queryformat", "%{NAME} %{ARCH} %{LICENSE}", pkg)
		if want := packageName + " " + rpmArch[goarch] + " MIT"; head != want {
			t.Errorf("%s is %q, want %q (name, arch, license)", filepath.Base(pkg), head, want)
		}
		list := run(t, "", rpm, "-qp", "--queryformat", "[%{FILENAMES}\t%{FILEFLAGS:fflags}\t%{FILELINKTOS}\n]", pkg)
		flags := map[string]string{}
		links := map[string]string{}
		for _, line := range strings.Split(strings.TrimRight(list, "\n"), "\n") {
			f := strings.Split(line, "\t")
			if len(f) != 3 {
				t.Fatalf("rpm file list line %q", line)
			}
			flags[f[0]], links[f[0]] = f[1], f[2]
		}
		var got []string
		for p := range flags {
			got = append(got, p)
		}
		want := append([]string{binPath, configPath, unitPath, rpmLicensePath}, linkPaths...)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s installs %q, want %q", filepath.Base(pkg), got, want)
		}
		// c = %config, n = noreplace: an edited config survives upgrades.
		if flags[configPath] != "cn" {
			t.Errorf("%s: %s flags %q, want %%config(noreplace) (cn)", filepath.Base(pkg), configPath, flags[configPath])
		}
		if flags[rpmLicensePath] != "l" {
			t.Errorf("%s: %s flags %q, want %%license (l)", filepath.Base(pkg), rpmLicensePath, flags[rpmLicensePath])
		}
		for _, l := range linkPaths {
			if links[l] != "pyro4" {
				t.Errorf("%s: %s links to %q, want pyro4", filepath.Base(pkg), l, links[l])
			}
		}
		scripts := run(t, "", rpm, "-qp", "--scripts", pkg)
		for _, s := range []string{"preinstall scriptlet", "postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet"} {
			if !strings.Contains(scripts, s) {
				t.Errorf("%s has no %s", filepath.Base(pkg), s)
			}
		}

		// The payload, as the tar rpm2archive makes of it.
		cmd := exec.Command(rpm2archive, "-n", "-")
		f, err := os.Open(pkg)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = f
		payload, err := cmd.Output()
		f.Close()
		if err != nil {
			t.Fatalf("rpm2archive %s: %v", filepath.Base(pkg), err)
		}
		byPath := map[string]entry{}
		for name, e := range readTar(t, bytes.NewReader(payload)) {
			if !e.mode.IsDir() {
				byPath[strings.TrimPrefix(name, ".")] = e
			}
		}
		checkPackageFiles(t, r, filepath.Base(pkg), goarch, byPath, rpmLicensePath)
	}
}
