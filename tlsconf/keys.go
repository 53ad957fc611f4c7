package tlsconf

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// keyFile names where a key pair's parts come from, for error messages
// that point at the setting to fix.
type keyFile struct {
	cert, key, password string
	certItem, keyItem   string // the Pyro4 item names, e.g. SSL_SERVERCERT
	passItem            string
}

// load reads the certificate chain and the private key. As with Python's
// load_cert_chain, an empty key path means the key sits in the
// certificate file.
func (k keyFile) load() (tls.Certificate, error) {
	certPEM, err := os.ReadFile(k.cert)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", k.certItem, err)
	}
	var chain []byte
	for rest := certPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			chain = append(chain, pem.EncodeToMemory(b)...)
		}
	}
	if len(chain) == 0 {
		return tls.Certificate{}, fmt.Errorf("%s: no CERTIFICATE block in %s", k.certItem, k.cert)
	}
	keyPath, keyPEM := k.key, certPEM
	if keyPath == "" {
		keyPath = k.cert
	} else if keyPEM, err = os.ReadFile(keyPath); err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", k.keyItem, err)
	}
	key, encrypted, err := parseKeyPEM(keyPEM, []byte(k.password))
	switch {
	case errors.Is(err, errNoKey) && k.key == "":
		return tls.Certificate{}, fmt.Errorf("%s is not set and %s holds no private key", k.keyItem, k.cert)
	case errors.Is(err, errNeedPassword):
		return tls.Certificate{}, fmt.Errorf("key %s is encrypted and %s is not set", keyPath, k.passItem)
	case err != nil && encrypted:
		return tls.Certificate{}, fmt.Errorf("decrypt key %s: %w", keyPath, err)
	case err != nil:
		return tls.Certificate{}, fmt.Errorf("key %s: %w", keyPath, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key %s: %w", keyPath, err)
	}
	pair, err := tls.X509KeyPair(chain, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate %s with key %s: %w", k.cert, keyPath, err)
	}
	return pair, nil
}

var (
	errNoKey        = errors.New("no private key block")
	errNeedPassword = errors.New("key is encrypted and no password is set")
)

// parseKeyPEM finds the first private key block in data (a key file may
// start with EC PARAMETERS, a certificate file with the chain) and decodes
// it, decrypting it with password when it is encrypted.
func parseKeyPEM(data, password []byte) (key crypto.PrivateKey, encrypted bool, err error) {
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil, false, errNoKey
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			return parseKeyBlock(b, password, maxIterations)
		}
	}
}

// parseKeyBlock reports whether the block was encrypted, so that errors
// can say "decrypt".
func parseKeyBlock(b *pem.Block, password []byte, iterLimit int) (crypto.PrivateKey, bool, error) {
	der := b.Bytes
	switch {
	case b.Type == "ENCRYPTED PRIVATE KEY":
		if len(password) == 0 {
			return nil, true, errNeedPassword
		}
		plain, err := decryptPKCS8(der, password, iterLimit)
		if err != nil {
			return nil, true, err
		}
		key, err := x509.ParsePKCS8PrivateKey(plain)
		if err != nil {
			// Padding checks let a wrong password through one time in
			// 256; the garbage then fails to parse.
			return nil, true, errWrongPassword
		}
		return key, true, nil
	// Legacy PEM encryption (deprecated in crypto/x509: weak by design) is
	// still how many existing key files are written, and Python reads
	// them; we only ever decrypt it.
	case x509.IsEncryptedPEMBlock(b):
		if len(password) == 0 {
			return nil, true, errNeedPassword
		}
		plain, err := x509.DecryptPEMBlock(b, password)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, true, errWrongPassword
		} else if err != nil {
			return nil, true, err
		}
		key, err := parseKeyDER(b.Type, plain)
		if err != nil {
			return nil, true, errWrongPassword
		}
		return key, true, nil
	}
	key, err := parseKeyDER(b.Type, der)
	return key, false, err
}

func parseKeyDER(typ string, der []byte) (crypto.PrivateKey, error) {
	switch typ {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(der)
	case "PRIVATE KEY":
		return x509.ParsePKCS8PrivateKey(der)
	}
	return nil, fmt.Errorf("unsupported PEM block %q", typ)
}
