package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCredentialsDirectory: a secret's file path may start with
// $CREDENTIALS_DIRECTORY, the directory systemd gives a unit's
// LoadCredential= files; nothing else in the path is expanded, and an
// unset variable is an error naming it at the key's line.
func TestCredentialsDirectory(t *testing.T) {
	creds := t.TempDir()
	for name, text := range map[string]string{"hmac-key": "s3cret\n", "key-password": "pw\n"} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(text), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	// A file literally named "$HOME" next to the config: only
	// $CREDENTIALS_DIRECTORY is expanded.
	cfgDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(cfgDir, "$HOME"), []byte("dollar\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	set := env(map[string]string{"CREDENTIALS_DIRECTORY": creds, "HOME": "/nonexistent"})
	for _, tc := range []struct {
		name   string
		text   string
		lookup func(string) (string, bool)
		key    string // the HMAC key read, when err is ""
		line   int
		err    string
	}{
		{"bare variable", "hmac_key_file = \"$CREDENTIALS_DIRECTORY/hmac-key\"\n", set, "s3cret", 0, ""},
		{"braced variable", "hmac_key_file = \"${CREDENTIALS_DIRECTORY}/hmac-key\"\n", set, "s3cret", 0, ""},
		{"other variables stay literal", "hmac_key_file = \"$HOME\"\n", set, "dollar", 0, ""},
		{"unset", "port = 1\nhmac_key_file = \"$CREDENTIALS_DIRECTORY/hmac-key\"\n", env(nil), "", 2,
			"hmac_key_file: $CREDENTIALS_DIRECTORY is not set: systemd sets it for a service with LoadCredential="},
		{"empty", "hmac_key_file = \"$CREDENTIALS_DIRECTORY/hmac-key\"\n", env(map[string]string{"CREDENTIALS_DIRECTORY": ""}), "", 1,
			"$CREDENTIALS_DIRECTORY is not set"},
		{"relative directory", "hmac_key_file = \"$CREDENTIALS_DIRECTORY/hmac-key\"\n", env(map[string]string{"CREDENTIALS_DIRECTORY": "run"}), "", 1,
			`$CREDENTIALS_DIRECTORY="run" is not an absolute path`},
		{"credential missing", "hmac_key_file = \"$CREDENTIALS_DIRECTORY/other\"\n", set, "", 1,
			filepath.Join(creds, "other") + ": no such file"},
		{"a longer variable name is not it", "hmac_key_file = \"$CREDENTIALS_DIRECTORY_X/hmac-key\"\n", set, "", 1,
			filepath.Join(cfgDir, "$CREDENTIALS_DIRECTORY_X", "hmac-key")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(filepath.Join(cfgDir, "ns.toml"), []byte(tc.text), tc.lookup)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := string(c.HMACKey); got != tc.key {
					t.Fatalf("key %q, want %q", got, tc.key)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Line != tc.line || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want line %d and %q", err, tc.line, tc.err)
			}
		})
	}

	// The TLS password files are secrets read the same way.
	c, err := Parse(filepath.Join(cfgDir, "ns.toml"), []byte("[tls]\nserver_key_password_file = \"$CREDENTIALS_DIRECTORY/key-password\"\n"), set)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(c.TLS.ServerKeyPassword); got != "pw" {
		t.Fatalf("server key password %q, want %q", got, "pw")
	}
}
