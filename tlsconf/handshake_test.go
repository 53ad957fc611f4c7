package tlsconf

import (
	"crypto"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

func serverSettings(f *tlstest.Files) Settings {
	return Settings{SSL: true, ServerCert: f.ServerCert, ServerKey: f.ServerKey, CACerts: f.CACert}
}

func clientSettings(f *tlstest.Files, withCert bool) Settings {
	s := Settings{SSL: true, CACerts: f.CACert}
	if withCert {
		s.ClientCert, s.ClientKey = f.ClientCert, f.ClientKey
	}
	return s
}

func mustClient(t *testing.T, s Settings) *tls.Config {
	t.Helper()
	c, err := ClientConfig(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHandshake(t *testing.T) {
	f := tlstest.WriteFiles(t)
	other := tlstest.NewCA(t, "other CA")
	dir := t.TempDir()
	otherCA := other.WriteCert(t, dir, "other-ca.crt")
	strangerCert, strangerKey := other.Client(t, "stranger").Write(t, dir, "stranger")
	stranger := Settings{SSL: true, CACerts: f.CACert, ClientCert: strangerCert, ClientKey: strangerKey}

	tests := []struct {
		name          string
		require       bool
		maxVersion    uint16
		withhold      bool // let crypto/tls choose whether to send the client certificate
		client        Settings
		wantClient    Reason // ReasonOther with ok: success
		wantServer    Reason
		ok            bool
		wantClientMsg string
	}{
		{name: "1-way", client: clientSettings(f, false), ok: true},
		{name: "1-way client sends a cert anyway", client: clientSettings(f, true), ok: true},
		// Pyro4's server does not ask for a certificate unless it requires
		// one, so an untrusted client certificate does not matter.
		{name: "1-way untrusted client cert not asked for", client: stranger, ok: true},
		{name: "2-way", require: true, client: clientSettings(f, true), ok: true},
		{name: "2-way without client cert", require: true, client: clientSettings(f, false),
			wantClient: ReasonClientCertRequired, wantServer: ReasonClientCertRequired, wantClientMsg: "requires a client certificate"},
		{name: "2-way without client cert TLS 1.2", require: true, maxVersion: tls.VersionTLS12, client: clientSettings(f, false),
			wantClient: ReasonClientCertRequired, wantServer: ReasonClientCertRequired},
		// Sent although the server names another CA, as OpenSSL does, so
		// that the server can say what is wrong.
		{name: "2-way untrusted client cert", require: true, client: stranger,
			wantClient: ReasonClientCertRejected, wantServer: ReasonClientCertRejected, wantClientMsg: "refused our client certificate"},
		// crypto/tls's own behaviour, for a caller with a config of its own:
		// no certificate offered whose issuer the server does not name.
		{name: "2-way untrusted client cert withheld", require: true, client: stranger, withhold: true,
			wantClient: ReasonClientCertRejected, wantServer: ReasonClientCertRequired, wantClientMsg: "and ours (SSL_CLIENTCERT) is not"},
		{name: "unknown authority", client: Settings{SSL: true, CACerts: otherCA},
			wantClient: ReasonUnknownAuthority, wantServer: ReasonServerCertRejected, wantClientMsg: "unknown authority; set SSL_CACERTS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := serverSettings(f)
			s.RequireClientCert = tc.require
			r, err := NewReloader(s)
			if err != nil {
				t.Fatal(err)
			}
			cfg := r.Config()
			if tc.maxVersion != 0 {
				inner, _ := cfg.GetConfigForClient(nil)
				inner = inner.Clone()
				inner.MaxVersion = tc.maxVersion
				cfg = inner
			}
			srv := startEcho(t, cfg)
			client := mustClient(t, tc.client)
			if tc.withhold {
				client.GetClientCertificate = nil
			}
			conn, err := dialEcho(t, srv.addr(), "localhost", client)
			if tc.ok {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				if v := conn.ConnectionState().Version; v < tls.VersionTLS12 {
					t.Errorf("version %x below TLS 1.2", v)
				}
				return
			}
			if err == nil {
				t.Fatal("handshake succeeded")
			}
			if got := reasonOf(err); got != tc.wantClient {
				t.Errorf("client reason %d, want %d: %v", got, tc.wantClient, err)
			}
			if !strings.Contains(err.Error(), tc.wantClientMsg) {
				t.Errorf("client error %q does not contain %q", err, tc.wantClientMsg)
			}
			if serr := srv.serverErr(t); reasonOf(serr) != tc.wantServer {
				t.Errorf("server reason %d, want %d: %v", reasonOf(serr), tc.wantServer, serr)
			}
		})
	}
}

func TestMinVersion(t *testing.T) {
	f := tlstest.WriteFiles(t)
	cfg, err := ServerConfig(serverSettings(f))
	if err != nil {
		t.Fatal(err)
	}
	srv := startEcho(t, cfg)
	client := mustClient(t, clientSettings(f, false))
	client.MinVersion, client.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, err := dialEcho(t, srv.addr(), "localhost", client); err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
}

// TestHostnames checks ForHost as Python's check_hostname: IP literals
// against IP SANs, names against DNS SANs; and Go's one difference, no
// common-name fallback.
func TestHostnames(t *testing.T) {
	f := tlstest.WriteFiles(t)
	dir := t.TempDir()
	cnOnlyCert, cnOnlyKey := f.CA.Issue(t, tlstest.Leaf{CommonName: "localhost"}).Write(t, dir, "cn-only")
	wildCert, wildKey := f.CA.Issue(t, tlstest.Leaf{CommonName: "w", Names: []string{"*.example.test"}}).Write(t, dir, "wild")
	tests := []struct {
		cert, key, host string
		ok              bool
		wantMsg         string
	}{
		{f.ServerCert, f.ServerKey, "localhost", true, ""},
		{f.ServerCert, f.ServerKey, "LocalHost", true, ""},
		{f.ServerCert, f.ServerKey, "127.0.0.1", true, ""},
		{f.ServerCert, f.ServerKey, "127.0.1.1", true, ""},
		{f.ServerCert, f.ServerKey, "127.0.0.2", false, `not valid for "127.0.0.2": it names localhost, 127.0.0.1, 127.0.1.1`},
		{f.ServerCert, f.ServerKey, "::1", false, `not valid for "::1"`},
		{f.ServerCert, f.ServerKey, "[::1]", false, `not valid for "::1"`},
		{f.ServerCert, f.ServerKey, "otherhost", false, `not valid for "otherhost"`},
		{wildCert, wildKey, "ns.example.test", true, ""},
		{wildCert, wildKey, "a.ns.example.test", false, "not valid"},
		{wildCert, wildKey, "example.test", false, "not valid"},
		{cnOnlyCert, cnOnlyKey, "localhost", false, "names no host"},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.cert)+"/"+tc.host, func(t *testing.T) {
			cfg, err := ServerConfig(Settings{SSL: true, ServerCert: tc.cert, ServerKey: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			srv := startEcho(t, cfg)
			_, err = dialEcho(t, srv.addr(), tc.host, mustClient(t, clientSettings(f, false)))
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if reasonOf(err) != ReasonHostname || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v, want a host name failure containing %q", err, tc.wantMsg)
			}
		})
	}
}

// TestNotTLS covers both wrong pairings: a plain Pyro client on a TLS port
// (the server sees 'PYRO'), and a TLS client on a plain Pyro server, which
// answers the ClientHello with a CONNECTFAIL message as pyro4-ns does, or
// hangs up.
func TestNotTLS(t *testing.T) {
	f := tlstest.WriteFiles(t)
	cfg, err := ServerConfig(serverSettings(f))
	if err != nil {
		t.Fatal(err)
	}
	srv := startEcho(t, cfg)
	c, err := net.Dial("tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("PYRO\x000\x00\x01\x00\x00\x00\x00\x00\x00\x00\x10\x00\x01\x00\x00\x00\x00\x00\x00"))
	if serr := srv.serverErr(t); reasonOf(serr) != ReasonPlainPyro || !strings.Contains(serr.Error(), "plain Pyro") {
		t.Errorf("server error %v, want plain Pyro", serr)
	}

	plain := func(answer []byte) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			hdr := make([]byte, 24)
			if _, err := c.Read(hdr); err == nil && LooksLikeTLS(hdr) {
				c.Write(answer)
			}
		}()
		return ln.Addr().String()
	}
	client := mustClient(t, clientSettings(f, false))
	tests := []struct {
		name   string
		answer []byte
		want   Reason
	}{
		{"CONNECTFAIL", []byte("PYRO\x000\x00\x04\x00\x00\x00\x00\x00\x20\x00\x01\x00\x00\x00\x00\x00\x00"), ReasonPlainPyro},
		{"other protocol", []byte("HTTP/1.0 400 Bad Request\r\n\r\n"), ReasonNotTLS},
		{"hang up", nil, ReasonClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := plain(tc.answer)
			if _, err := dialEcho(t, addr, "localhost", client); reasonOf(err) != tc.want {
				t.Errorf("err = %v, want reason %d", err, tc.want)
			}
		})
	}
}

func TestLooksLikeTLS(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"\x16\x03\x01\x02\x00", true}, {"\x16\x03\x03", true}, {"PYRO", false}, {"\x16\x02\x00", false}, {"\x16", false}, {"", false},
	}
	for _, tc := range tests {
		if got := LooksLikeTLS([]byte(tc.in)); got != tc.want {
			t.Errorf("LooksLikeTLS(%q) = %v", tc.in, got)
		}
	}
}

func TestServerSettingsErrors(t *testing.T) {
	f := tlstest.WriteFiles(t)
	emptyDir, certDir := t.TempDir(), t.TempDir()
	encKey := filepath.Join("testdata", "rsa-legacy-aes128.pem")
	rsaKey := readFixtureKey(t, "rsa-pkcs8.pem").(crypto.Signer)
	encCert, _ := f.CA.Issue(t, tlstest.Leaf{CommonName: "localhost", Names: []string{"localhost"}, Key: rsaKey}).Write(t, certDir, "enc")
	os.WriteFile(filepath.Join(emptyDir, "ca.pem"), f.CA.CertPEM, 0o600) // not a hashed name
	tests := []struct {
		name string
		s    Settings
		want string
	}{
		{"no cert", Settings{SSL: true}, "SSL is on but SSL_SERVERCERT (the server certificate) is not set"},
		{"require without CAs", Settings{SSL: true, ServerCert: f.ServerCert, ServerKey: f.ServerKey, RequireClientCert: true},
			"SSL is on but SSL_CACERTS (needed by SSL_REQUIRECLIENTCERT to verify client certificates) is not set"},
		{"neither", Settings{SSL: true, RequireClientCert: true}, "SSL_SERVERCERT (the server certificate) and SSL_CACERTS"},
		{"missing CA file", Settings{SSL: true, ServerCert: f.ServerCert, ServerKey: f.ServerKey, CACerts: filepath.Join(emptyDir, "nope")},
			"SSL_CACERTS: stat " + filepath.Join(emptyDir, "nope")},
		{"CA file without certs", Settings{SSL: true, ServerCert: f.ServerCert, ServerKey: f.ServerKey, CACerts: f.ServerKey},
			"SSL_CACERTS: no CERTIFICATE block in " + f.ServerKey},
		{"CA dir not hashed", Settings{SSL: true, ServerCert: f.ServerCert, ServerKey: f.ServerKey, CACerts: emptyDir},
			"has no hashed certificate files"},
		{"wrong password", Settings{SSL: true, ServerCert: encCert, ServerKey: encKey, ServerKeyPassword: "wrong"},
			"decrypt key " + encKey + ": wrong password or damaged key"},
		{"no password", Settings{SSL: true, ServerCert: encCert, ServerKey: encKey},
			"key " + encKey + " is encrypted and SSL_SERVERKEYPASSWD is not set"},
		{"key not in cert file", Settings{SSL: true, ServerCert: f.ServerCert},
			"SSL_SERVERKEY is not set and " + f.ServerCert + " holds no private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReloader(tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestCADirectory: SSL_CACERTS as an OpenSSL hashed directory; files not
// named like hashes are ignored, as OpenSSL ignores them.
func TestCADirectory(t *testing.T) {
	f := tlstest.WriteFiles(t)
	dir := t.TempDir()
	other := tlstest.NewCA(t, "other")
	os.WriteFile(filepath.Join(dir, "0a1b2c3d.0"), other.CertPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "abcd1234.0"), f.CA.CertPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not a certificate"), 0o600)
	os.WriteFile(filepath.Join(dir, "abcd1234.r0"), []byte("a CRL, not read"), 0o600)

	s := serverSettings(f)
	s.CACerts, s.RequireClientCert = dir, true
	r, err := NewReloader(s)
	if err != nil {
		t.Fatal(err)
	}
	srv := startEcho(t, r.Config())
	if _, err := dialEcho(t, srv.addr(), "127.0.0.1", mustClient(t, Settings{SSL: true, CACerts: dir, ClientCert: f.ClientCert, ClientKey: f.ClientKey})); err != nil {
		t.Fatalf("2-way with hashed CA directory on both sides: %v", err)
	}

	// A CA added to the directory counts from the next change check.
	third := tlstest.NewCA(t, "third")
	cert, key := third.Client(t, "third client").Write(t, t.TempDir(), "c")
	client := mustClient(t, Settings{SSL: true, CACerts: f.CACert, ClientCert: cert, ClientKey: key})
	if _, err := dialEcho(t, srv.addr(), "127.0.0.1", client); err == nil {
		t.Fatal("client of a CA not in the directory accepted")
	}
	os.WriteFile(filepath.Join(dir, "99887766.0"), third.CertPEM, 0o600)
	if tried, err := r.ReloadIfChanged(); !tried || err != nil {
		t.Fatalf("ReloadIfChanged after a new hashed file: tried=%v err=%v", tried, err)
	}
	if _, err := dialEcho(t, srv.addr(), "127.0.0.1", client); err != nil {
		t.Errorf("client of the added CA: %v", err)
	}
}

func TestExpired(t *testing.T) {
	f := tlstest.WriteFiles(t)
	cert, key := f.CA.Issue(t, tlstest.Leaf{CommonName: "old", Names: []string{"localhost"}, NotAfter: time.Now().Add(-time.Minute)}).Write(t, t.TempDir(), "old")
	cfg, err := ServerConfig(Settings{SSL: true, ServerCert: cert, ServerKey: key})
	if err != nil {
		t.Fatal(err)
	}
	srv := startEcho(t, cfg)
	_, err = dialEcho(t, srv.addr(), "localhost", mustClient(t, clientSettings(f, false)))
	if reasonOf(err) != ReasonCertExpired || !strings.Contains(err.Error(), "expired") {
		t.Errorf("err = %v, want an expired certificate", err)
	}
}
