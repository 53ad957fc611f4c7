package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// TestNsHMACKeyCredential: hmac_key_file = "$CREDENTIALS_DIRECTORY/hmac-key",
// the packaged service's line, reads the key systemd loaded for the unit;
// a Python client with that key is served and one without is refused.
// Without the variable the server does not start (exit 2) and says which
// variable is missing.
func TestNsHMACKeyCredential(t *testing.T) {
	pypeer.Require(t)
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "hmac-key"), []byte("s3cret\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	port := pypeer.FreePort(t)
	cfg := filepath.Join(t.TempDir(), "nsctl.toml")
	writeNsFile(t, cfg, fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\nhmac_key_file = \"$CREDENTIALS_DIRECTORY/hmac-key\"\n[broadcast]\nenabled = false\n", port))

	nsCleanEnv(t)
	code, _, stderr := runNsToEnd(t, "--config", cfg)
	if want := cfg + ":3: hmac_key_file: $CREDENTIALS_DIRECTORY is not set"; code != 2 || !strings.Contains(stderr, want) {
		t.Fatalf("without CREDENTIALS_DIRECTORY: exit %d, want 2 and %q in\n%s", code, want, stderr)
	}

	nsCleanEnv(t, "CREDENTIALS_DIRECTORY="+creds)
	r := startNsInProcess(t, "--config", cfg)
	r.waitOut(t, "URI =")
	uri := nsURI(port)
	if got := nsPyClient(t, uri, "s3cret", "register", "x", "PYRO:x@h:1"); got != "ok" {
		t.Fatalf("register with the credential's key: %s", got)
	}
	if _, ok := nsPyList(t, uri, "s3cret")["x"]; !ok {
		t.Fatalf("x not listed with the key")
	}
	script := "import Pyro4, sys\n" +
		"try:\n    Pyro4.Proxy(sys.argv[1]).ping()\n    print('served')\n" +
		"except Pyro4.errors.CommunicationError as e:\n    print('refused: %s' % e)\n"
	out, err := pypeer.Run(t, nsWait, pypeer.Env(), script, uri)
	if err != nil || !strings.HasPrefix(strings.TrimSpace(out), "refused: ") || !strings.Contains(out, "hmac") {
		t.Fatalf("client without the key: %v\n%s", err, out)
	}
}
