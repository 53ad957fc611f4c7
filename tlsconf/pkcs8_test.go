package tlsconf

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

func fixtureDER(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	return b.Bytes
}

// TestDecryptPKCS8Damaged flips each byte of an openssl-made key in turn.
// CBC has no integrity: damage may decrypt to another valid key, so the
// guarantee is that such a key never pairs with the certificate.
func TestDecryptPKCS8Damaged(t *testing.T) {
	refKey := readFixtureKey(t, "ec-pkcs8.pem")
	ref := refKey.(interface{ Equal(crypto.PrivateKey) bool })
	cert := tlstest.NewCA(t, "ca").Issue(t, tlstest.Leaf{CommonName: "k", Names: []string{"localhost"}, Key: refKey.(crypto.Signer)})
	der := fixtureDER(t, "ec-pbes2-aes256.pem")
	errs := 0
	for i := range der {
		bad := append([]byte(nil), der...)
		bad[i] ^= 0x5a
		key, _, err := parseKeyBlock(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: bad}, []byte(fixturePass), 1<<16)
		if err != nil {
			errs++
			continue
		}
		if ref.Equal(key) {
			continue
		}
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tls.X509KeyPair(cert.CertPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})); err == nil {
			t.Errorf("byte %d flipped: a different key pairs with the certificate", i)
		}
	}
	// An EC key carries its public point, which Go recomputes from the
	// private scalar instead of checking: damage there still decodes to the
	// same key.
	if errs < len(der)/2 {
		t.Errorf("only %d of %d damaged keys gave an error", errs, len(der))
	}
	if _, err := decryptPKCS8(der[:len(der)-1], []byte(fixturePass), 1<<16); err == nil {
		t.Error("truncated key decrypted")
	}
	if _, err := decryptPKCS8(der, []byte(fixturePass), 100); err == nil {
		t.Error("iteration limit not enforced (openssl writes 2048)")
	}
}

func FuzzDecryptPKCS8(f *testing.F) {
	for _, name := range []string{"ec-pbes2-aes256.pem", "ec-pbes2-aes128.pem", "ec-pbes2-des3.pem",
		"ec-pbes2-sha1.pem", "ec-scrypt.pem", "ec-pbes1.pem"} {
		f.Add(fixtureDER(f, name), []byte(fixturePass))
	}
	f.Fuzz(func(t *testing.T, der, password []byte) {
		// A small iteration limit keeps each input fast; the limit is a
		// parameter for exactly this.
		plain, err := decryptPKCS8(der, password, 4096)
		if err == nil && len(plain) >= len(der) {
			t.Fatalf("plaintext of %d bytes from %d bytes of input", len(plain), len(der))
		}
	})
}
