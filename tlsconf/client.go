package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
)

// ClientConfig is the client side of Settings, as Pyro4's client context:
// the server certificate is verified against the system roots plus
// CACerts, and the client certificate is sent when ClientCert is set
// (Pyro4 ignores ClientKey without ClientCert, and so do we). The result
// has no ServerName: take ForHost for each connection.
func ClientConfig(s Settings) (*tls.Config, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		// A platform without a readable system store still works with
		// SSL_CACERTS, as Python does.
		roots = x509.NewCertPool()
	}
	if s.CACerts != "" {
		if err := loadCAs(roots, s.CACerts); err != nil {
			return nil, err
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
	if s.ClientCert != "" {
		pair, err := s.clientKeyFile().load()
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
		// OpenSSL sends the configured certificate whatever CAs the server
		// names; crypto/tls would silently send none when the issuer is not
		// among them, and the server would then say "no certificate"
		// instead of naming the real fault.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	return cfg, nil
}

// ForHost is cfg for a connection to host, the host part of the URI being
// connected to (a name or an IP literal, brackets allowed): the handshake
// then checks it as Python's check_hostname does. An IP literal must be
// among the certificate's IP SANs, a name among its DNS SANs (with
// single-label wildcards). Unlike OpenSSL, Go never falls back to the
// subject's common name: a certificate without SANs is refused.
func ForHost(cfg *tls.Config, host string) *tls.Config {
	c := cfg.Clone()
	c.ServerName = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return c
}
