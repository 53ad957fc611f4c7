package tlsconf

import (
	"crypto"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

const fixturePass = "fixture-pass"

func readFixtureKey(t *testing.T, name string) crypto.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	key, encrypted, err := parseKeyPEM(data, nil)
	if err != nil || encrypted {
		t.Fatalf("reference key %s: encrypted=%v err=%v", name, encrypted, err)
	}
	return key
}

// TestParseKeyFormats decodes every fixture openssl made (gen.sh) and
// compares it with the unencrypted PKCS#8 of the same key.
func TestParseKeyFormats(t *testing.T) {
	refs := map[string]crypto.PrivateKey{
		"rsa":     readFixtureKey(t, "rsa-pkcs8.pem"),
		"ec":      readFixtureKey(t, "ec-pkcs8.pem"),
		"ed25519": readFixtureKey(t, "ed25519-pkcs8.pem"),
	}
	tests := []struct {
		file, ref, password string
		encrypted           bool
		wantErr             string // substring; empty: must decode to ref
	}{
		{file: "rsa-pkcs1.pem", ref: "rsa"},
		{file: "ec-sec1.pem", ref: "ec"},
		{file: "ec-sec1-params.pem", ref: "ec"},
		{file: "rsa-pkcs8.pem", ref: "rsa", password: "ignored when not encrypted"},
		{file: "rsa-pbes2-aes256.pem", ref: "rsa", password: fixturePass, encrypted: true},
		{file: "ec-pbes2-aes256.pem", ref: "ec", password: fixturePass, encrypted: true},
		{file: "ed25519-pbes2-aes256.pem", ref: "ed25519", password: fixturePass, encrypted: true},
		{file: "ec-pbes2-aes128.pem", ref: "ec", password: fixturePass, encrypted: true},
		{file: "ec-pbes2-aes192.pem", ref: "ec", password: fixturePass, encrypted: true},
		{file: "ec-pbes2-des3.pem", ref: "ec", password: fixturePass, encrypted: true},
		{file: "ec-pbes2-sha1.pem", ref: "ec", password: fixturePass, encrypted: true},
		{file: "ec-pbes2-sha512.pem", ref: "ec", password: fixturePass, encrypted: true},
		{file: "rsa-legacy-aes128.pem", ref: "rsa", password: fixturePass, encrypted: true},
		{file: "ec-legacy-des3.pem", ref: "ec", password: fixturePass, encrypted: true},

		{file: "rsa-pbes2-aes256.pem", password: "wrong", encrypted: true, wantErr: "wrong password or damaged key"},
		{file: "ec-pbes2-aes128.pem", password: "wrong", encrypted: true, wantErr: "wrong password or damaged key"},
		{file: "ec-pbes2-des3.pem", password: "wrong", encrypted: true, wantErr: "wrong password or damaged key"},
		{file: "rsa-legacy-aes128.pem", password: "wrong", encrypted: true, wantErr: "wrong password or damaged key"},
		{file: "ec-legacy-des3.pem", password: "wrong", encrypted: true, wantErr: "wrong password or damaged key"},
		{file: "ec-pbes2-aes256.pem", encrypted: true, wantErr: errNeedPassword.Error()},
		{file: "rsa-legacy-aes128.pem", encrypted: true, wantErr: errNeedPassword.Error()},
		{file: "ec-scrypt.pem", password: fixturePass, encrypted: true, wantErr: "unsupported key derivation scrypt"},
		{file: "ec-pbes1.pem", password: fixturePass, encrypted: true, wantErr: "unsupported PBES1 encryption"},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.password, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			key, encrypted, err := parseKeyPEM(data, []byte(tc.password))
			if encrypted != tc.encrypted {
				t.Errorf("encrypted = %v, want %v", encrypted, tc.encrypted)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := refs[tc.ref].(interface{ Equal(crypto.PrivateKey) bool })
			if !want.Equal(key) {
				t.Errorf("decoded key differs from %s-pkcs8.pem", tc.ref)
			}
		})
	}
}

// TestLoadKeyPairErrors checks that each failure names the file or the
// setting to fix.
func TestLoadKeyPairErrors(t *testing.T) {
	pki := tlstest.WriteFiles(t)
	dir := t.TempDir()
	encKey := filepath.Join("testdata", "ec-pbes2-aes256.pem")
	// A certificate for the fixture key, so that the encrypted key pairs.
	fixtureKey := readFixtureKey(t, "ec-pkcs8.pem").(crypto.Signer)
	encCert, _ := pki.CA.Issue(t, tlstest.Leaf{CommonName: "enc", Names: []string{"localhost"}, Key: fixtureKey}).Write(t, dir, "enc")
	combined := filepath.Join(dir, "combined.pem")
	if err := os.WriteFile(combined, append(append([]byte{}, pki.Server.CertPEM...), pki.Server.KeyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	combinedEnc := filepath.Join(dir, "combined-enc.pem")
	encPEM, _ := os.ReadFile(encKey)
	certPEM, _ := os.ReadFile(encCert)
	if err := os.WriteFile(combinedEnc, append(certPEM, encPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	keyOnly := filepath.Join(dir, "keyonly.pem")
	if err := os.WriteFile(keyOnly, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		k       keyFile
		wantErr string
	}{
		{"separate files", keyFile{cert: pki.ServerCert, key: pki.ServerKey}, ""},
		{"key in cert file", keyFile{cert: combined}, ""},
		{"encrypted key", keyFile{cert: encCert, key: encKey, password: fixturePass}, ""},
		{"encrypted key in cert file", keyFile{cert: combinedEnc, password: fixturePass}, ""},
		{"wrong password", keyFile{cert: encCert, key: encKey, password: "wrong"},
			"decrypt key " + encKey + ": wrong password or damaged key"},
		{"no password", keyFile{cert: encCert, key: encKey, passItem: "SSL_SERVERKEYPASSWD"},
			"key " + encKey + " is encrypted and SSL_SERVERKEYPASSWD is not set"},
		{"missing cert", keyFile{cert: filepath.Join(dir, "nope.crt"), certItem: "SSL_SERVERCERT"},
			"SSL_SERVERCERT: open " + filepath.Join(dir, "nope.crt")},
		{"missing key", keyFile{cert: pki.ServerCert, key: filepath.Join(dir, "nope.key"), keyItem: "SSL_SERVERKEY"},
			"SSL_SERVERKEY: open " + filepath.Join(dir, "nope.key")},
		{"no key in cert file", keyFile{cert: pki.ServerCert, keyItem: "SSL_SERVERKEY"},
			"SSL_SERVERKEY is not set and " + pki.ServerCert + " holds no private key"},
		{"key file as cert", keyFile{cert: pki.ServerKey, certItem: "SSL_SERVERCERT"},
			"SSL_SERVERCERT: no CERTIFICATE block in " + pki.ServerKey},
		{"mismatched key", keyFile{cert: pki.ServerCert, key: pki.ClientKey}, "does not match"},
		{"damaged key", keyFile{cert: pki.ServerCert, key: keyOnly}, "key " + keyOnly + ": "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pair, err := tc.k.load()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if pair.Leaf == nil {
					t.Fatal("no leaf")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}
