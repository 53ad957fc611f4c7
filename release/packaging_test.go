package release_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/pyro4/pyro4/nameserver/config"
)

// These tests read the packaging sources and run in every `go test`; the
// snapshot test checks that the packages hold exactly these files.

// packagedSource returns the source file .goreleaser.yaml installs at dst.
func packagedSource(t *testing.T, dst string) string {
	t.Helper()
	data, err := os.ReadFile("../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\s*- src: (\S+)\n\s*dst: ` + regexp.QuoteMeta(dst) + `$`)
	m := re.FindSubmatch(data)
	if m == nil {
		t.Fatalf(".goreleaser.yaml installs nothing at %s", dst)
	}
	return filepath.Join("..", string(m[1]))
}

// checkConfigPublishesNothing parses a config file's text and fails if it
// declares static registrations: names no client could remove, published
// by merely enabling the unit.
func checkConfigPublishesNothing(t *testing.T, where string, data []byte) {
	t.Helper()
	c, err := config.Parse(configPath, data, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("%s does not parse: %v", where, err)
	}
	for _, r := range c.Registrations {
		t.Errorf("%s declares the static registration %s -> %s", where, r.Name, r.URI)
	}
}

func TestPackagedConfigPublishesNothing(t *testing.T) {
	src := packagedSource(t, configPath)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	checkConfigPublishesNothing(t, src, data)
	if !bytes.Contains(data, []byte("\n# [[registration]]\n")) {
		t.Errorf("%s no longer documents [[registration]] by a commented-out example", src)
	}
}

// unitKeys reads a systemd unit file into section.key -> values, in order.
func unitKeys(t *testing.T, data []byte) map[string][]string {
	t.Helper()
	keys := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("unit line %d %q is not a key=value in a section", n, line)
			}
			keys[section+"."+k] = append(keys[section+"."+k], v)
		}
	}
	return keys
}

func TestSystemdUnitKeys(t *testing.T) {
	src := packagedSource(t, unitPath)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	checkUnit(t, src, data)
}

// checkUnit checks the unit's text: the service, its state directory, and
// every setting left to the config file it names.
func checkUnit(t *testing.T, where string, data []byte) {
	t.Helper()
	keys := unitKeys(t, data)
	want := map[string]string{
		"Service.DynamicUser":    "yes",
		"Service.StateDirectory": "pyro4",
		"Service.Restart":        "on-failure",
		"Service.ExecReload":     "/bin/kill -HUP $MAINPID",
		"Install.WantedBy":       "multi-user.target",
		// No flag beside --config: a flag would override the file, so
		// that editing the file changed nothing.
		"Service.ExecStart": binPath + " ns --config " + configPath,
	}
	for k, v := range want {
		if got := keys[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want %q", where, k, got, v)
		}
	}
	// The HMAC key never reaches the service through its environment,
	// which any local user can read with systemctl show, and the unit does
	// not suggest it in a comment either.
	for k := range keys {
		if strings.HasPrefix(k, "Service.Environment") || strings.HasPrefix(k, "Service.PassEnvironment") {
			t.Errorf("%s sets %s: the service's settings belong in %s", where, k, configPath)
		}
	}
	if bytes.Contains(data, []byte("PYRO_HMAC_KEY")) {
		t.Errorf("%s mentions PYRO_HMAC_KEY: the key is a credential (LoadCredential=), not an environment item", where)
	}
	if _, _, ok := hmacCredential(data); !ok {
		t.Errorf("%s lacks the commented-out line %s", where, loadCredentialLine)
	}
}

// The documented HMAC key credential: commented out in the unit, as a key
// file must exist before it can be loaded.
const (
	loadCredentialLine = "#LoadCredential=hmac-key:/etc/pyro4/hmac.key"
	credentialPath     = "$CREDENTIALS_DIRECTORY/hmac-key"
)

// hmacCredential finds the commented LoadCredential= line and returns the
// credential's name and the key file it is loaded from.
func hmacCredential(unit []byte) (id, from string, ok bool) {
	for _, line := range strings.Split(string(unit), "\n") {
		if v, found := strings.CutPrefix(line, "#LoadCredential="); found && line == loadCredentialLine {
			id, from, ok = strings.Cut(v, ":")
			return id, from, ok
		}
	}
	return "", "", false
}

// TestPackagedConfig checks the config the packages install against the
// unit that reads it: every interface, the bolt file in the unit's state
// directory, and an HMAC key file, when uncommented, at the path where
// systemd puts the unit's credential.
func TestPackagedConfig(t *testing.T) {
	src := packagedSource(t, configPath)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(packagedSource(t, unitPath))
	if err != nil {
		t.Fatal(err)
	}
	checkServiceConfig(t, src, data, unit)
}

func checkServiceConfig(t *testing.T, where string, data, unit []byte) {
	t.Helper()
	var settings struct {
		Host    string `toml:"host"`
		Storage string `toml:"storage"`
	}
	if _, err := toml.Decode(string(data), &settings); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if settings.Host != "0.0.0.0" {
		t.Errorf("%s: host = %q, want 0.0.0.0 (every interface)", where, settings.Host)
	}
	stateDir := "/var/lib/" + unitKeys(t, unit)["Service.StateDirectory"][0]
	if want := "bolt:" + stateDir + "/ns.db"; settings.Storage != want {
		t.Errorf("%s: storage = %q, want %q, in the unit's StateDirectory", where, settings.Storage, want)
	}

	// The key file line, commented out, names the credential the unit
	// loads, in the directory systemd gives the service as
	// $CREDENTIALS_DIRECTORY.
	id, _, ok := hmacCredential(unit)
	if !ok {
		t.Fatalf("the unit has no %s line", loadCredentialLine)
	}
	if want := "$CREDENTIALS_DIRECTORY/" + id; credentialPath != want {
		t.Fatalf("credential path %s, but the unit's credential is %s", credentialPath, want)
	}
	keyLine := fmt.Sprintf("# hmac_key_file = %q\n", credentialPath)
	if !bytes.Contains(data, []byte("\n"+keyLine)) {
		t.Fatalf("%s lacks the commented-out line %q", where, keyLine)
	}
	// Uncommented, the service reads the credential systemd copied; run
	// outside systemd, the error names the variable.
	enabled := bytes.Replace(data, []byte("\n"+keyLine), []byte("\n"+keyLine[2:]), 1)
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, id), []byte("s3cret\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(configPath, enabled, func(k string) (string, bool) { return creds, k == "CREDENTIALS_DIRECTORY" })
	if err != nil || string(c.HMACKey) != "s3cret" {
		t.Errorf("%s with hmac_key_file uncommented and the credential %s loaded: %v, want the key from %s", where, id, err, creds)
	}
	_, err = config.Parse(configPath, enabled, func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "$CREDENTIALS_DIRECTORY is not set") {
		t.Errorf("%s with hmac_key_file uncommented, outside systemd: %v, want an error naming $CREDENTIALS_DIRECTORY", where, err)
	}
}

// TestPackagedConfigFollowsExample: the packaged config is a copy of
// nsctl.toml.example with the service's choices made, so every key the
// example documents (set or commented out) is in it too.
func TestPackagedConfigFollowsExample(t *testing.T) {
	example, err := os.ReadFile("../nsctl.toml.example")
	if err != nil {
		t.Fatal(err)
	}
	src := packagedSource(t, configPath)
	packaged, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The service takes no key or password from its environment (see the
	// unit): those come from files, credentials among them.
	left := map[string]bool{
		"hmac_key_env":                 true,
		"[tls]server_key_password_env": true,
		"[tls]client_key_password_env": true,
	}
	have := map[string]bool{}
	for _, k := range documentedKeys(packaged) {
		have[k] = true
	}
	for _, k := range documentedKeys(example) {
		if !have[k] && !left[k] {
			t.Errorf("%s lacks %s, which nsctl.toml.example documents", src, k)
		}
	}
}

var documentedKey = regexp.MustCompile(`(?m)^(?:# ?)?(\[\[?[a-z_]+\]\]?|[a-z_]+) = `)

// documentedKeys lists a config's table headers and keys in order, set or
// commented out, each key qualified by its table.
func documentedKeys(data []byte) []string {
	var keys []string
	table := ""
	for _, line := range strings.Split(string(data), "\n") {
		l := strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") && !strings.Contains(l, " ") {
			table = l
			keys = append(keys, table)
			continue
		}
		if m := documentedKey.FindStringSubmatch(line); m != nil {
			keys = append(keys, table+m[1])
		}
	}
	return keys
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit, as
// shipped and with the documented LoadCredential= line enabled. Where
// /usr/bin/pyro4 is not installed, the copy verified runs a stand-in at
// another path; every other line is the packaged one. verify reports bad
// keys and values as warnings and still exits 0, so any output fails.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed; TestSystemdUnitKeys checks the unit by parsing")
	}
	src := packagedSource(t, unitPath)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := os.Stat(binPath); err != nil {
		stand := filepath.Join(dir, "pyro4")
		if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("ExecStart="+binPath+" "), []byte("ExecStart="+stand+" "))
	}
	withKey := bytes.Replace(data, []byte("\n"+loadCredentialLine+"\n"), []byte("\n"+loadCredentialLine[1:]+"\n"), 1)
	if bytes.Equal(withKey, data) {
		t.Fatalf("%s lacks the line %s", src, loadCredentialLine)
	}
	for _, tt := range []struct {
		name string
		unit []byte
	}{{"as shipped", data}, {"with the HMAC key credential", withKey}} {
		t.Run(tt.name, func(t *testing.T) {
			unit := filepath.Join(t.TempDir(), filepath.Base(unitPath))
			if err := os.WriteFile(unit, tt.unit, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
			if err != nil || len(out) != 0 {
				t.Fatalf("systemd-analyze verify %s: %v\n%s", src, err, out)
			}
		})
	}
}
