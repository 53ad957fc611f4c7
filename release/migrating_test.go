package release_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeMigratingNamesDebianInitScript: the Migrating section names
// Debian's /etc/init.d/pyro4-nsd with the command and ports it really
// starts (read from the installed script), and how to stop it.
func TestReadmeMigratingNamesDebianInitScript(t *testing.T) {
	const script = "/etc/init.d/pyro4-nsd"
	data, err := os.ReadFile(script)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: CI installs Debian's pyro4 package", err)
		}
		t.Skipf("Debian's pyro4 package is not installed: %v", err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(LISTEN_ADDRESS|LISTEN_PORT)=(\S+)$`).FindAllStringSubmatch(string(data), -1) {
		vars[m[1]] = m[2]
	}
	if !strings.Contains(string(data), `$PYTHON -m Pyro4.naming -n "$LISTEN_ADDRESS" -p "$LISTEN_PORT"`) || len(vars) != 2 {
		t.Fatalf("%s no longer starts Pyro4.naming as this test reads it:\n%s", script, data)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, migrating, ok := strings.Cut(string(readme), "## Migrating from pyro4-ns")
	if !ok {
		t.Fatal("README.md has no Migrating section")
	}
	migrating, _, _ = strings.Cut(migrating, "\n## ")
	migrating = strings.Join(strings.Fields(migrating), " ")
	for _, want := range []string{
		script,
		"python3 -m Pyro4.naming -n " + vars["LISTEN_ADDRESS"] + " -p " + vars["LISTEN_PORT"],
		"broadcast responder on 9091", // Pyro4's NS_BCPORT, which the script leaves as it is
		"systemctl disable --now pyro4-nsd",
	} {
		if !strings.Contains(migrating, want) {
			t.Errorf("the Migrating section does not say %q", want)
		}
	}
	if strings.Contains(string(data), "PYRO_NS_BCPORT") {
		t.Errorf("%s sets PYRO_NS_BCPORT: the README's 9091 may be wrong", script)
	}
}
