// Package tlstest makes a throw-away PKI for tests: a CA, a server
// certificate for the loopback names Pyro4 tests use, and client
// certificates, written as PEM files that Settings can point at. Only
// tests import it.
package tlstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ServerNames are the server certificate's SANs: what a loopback name
// server is reached by, 127.0.1.1 being Debian's address for the host name.
func ServerNames() []string { return []string{"localhost", "127.0.0.1", "127.0.1.1"} }

// CA is a certificate authority that signs certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
}

// Pair is a certificate and its key.
type Pair struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte // unencrypted PKCS#8
}

// TLS is the pair for a tls.Config.
func (p *Pair) TLS(t testing.TB) tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		t.Fatalf("tlstest: key pair: %v", err)
	}
	return c
}

// Write writes dir/name.crt and dir/name.key and returns their paths.
func (p *Pair) Write(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writeFile(t, certFile, p.CertPEM)
	writeFile(t, keyFile, p.KeyPEM)
	return certFile, keyFile
}

// NewCA makes a CA with a fresh P-256 key.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("tlstest: CA certificate: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// WriteCert writes the CA certificate to dir/name and returns the path.
func (ca *CA) WriteCert(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	writeFile(t, p, ca.CertPEM)
	return p
}

// Leaf describes a certificate to issue. Names that parse as IP addresses
// become IP SANs, the others DNS SANs; no names and a CommonName gives a
// CN-only certificate, which Go refuses and OpenSSL accepts.
type Leaf struct {
	CommonName string
	Names      []string
	Client     bool          // client authentication instead of server
	Key        crypto.Signer // nil: a fresh P-256 key
	NotAfter   time.Time     // zero: a day from now
}

// Issue signs a certificate as l describes.
func (ca *CA) Issue(t testing.TB, l Leaf) *Pair {
	t.Helper()
	key := l.Key
	if key == nil {
		key = newKey(t)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: l.CommonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     l.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if l.Client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, n := range l.Names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatalf("tlstest: certificate %q: %v", l.CommonName, err)
	}
	cert, _ := x509.ParseCertificate(der)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("tlstest: key: %v", err)
	}
	return &Pair{Cert: cert, Key: key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})}
}

// Server issues a server certificate for ServerNames.
func (ca *CA) Server(t testing.TB) *Pair {
	t.Helper()
	return ca.Issue(t, Leaf{CommonName: "localhost", Names: ServerNames()})
}

// Client issues a client certificate.
func (ca *CA) Client(t testing.TB, name string) *Pair {
	t.Helper()
	return ca.Issue(t, Leaf{CommonName: name, Client: true})
}

// Files is a complete PKI on disk in a test's temporary directory.
type Files struct {
	Dir                   string
	CA                    *CA
	Server, Client        *Pair
	CACert                string // the CA certificate, for SSL_CACERTS
	ServerCert, ServerKey string
	ClientCert, ClientKey string
}

// WriteFiles makes a CA, a server certificate for ServerNames and a client
// certificate, and writes them under t.TempDir().
func WriteFiles(t testing.TB) *Files {
	t.Helper()
	f := &Files{Dir: t.TempDir(), CA: NewCA(t, "pyro4 test CA")}
	f.Server, f.Client = f.CA.Server(t), f.CA.Client(t, "pyro4 test client")
	f.CACert = f.CA.WriteCert(t, f.Dir, "ca.crt")
	f.ServerCert, f.ServerKey = f.Server.Write(t, f.Dir, "server")
	f.ClientCert, f.ClientKey = f.Client.Write(t, f.Dir, "client")
	return f
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("tlstest: key: %v", err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("tlstest: serial: %v", err)
	}
	return n
}

func writeFile(t testing.TB, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatalf("tlstest: %v", err)
	}
}
