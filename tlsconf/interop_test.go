package tlsconf

import (
	"crypto"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

func pyScript(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "py", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPythonClient: the real Python ssl module, with the context Pyro4
// builds from PYRO_SSL_*, against a listener using our server config.
func TestPythonClient(t *testing.T) {
	pypeer.Require(t)
	f := tlstest.WriteFiles(t)
	dir := t.TempDir()
	other := tlstest.NewCA(t, "other CA")
	otherCA := other.WriteCert(t, dir, "other-ca.crt")
	strangerCert, strangerKey := other.Client(t, "stranger").Write(t, dir, "stranger")
	script := pyScript(t, "client.py")

	tests := []struct {
		name       string
		require    bool
		listen     string // default 127.0.0.1
		mode       string // tls or plain
		env        []string
		wantPython string // prefix of Python's line
		wantServer Reason // for a refused handshake
	}{
		{name: "1-way", env: []string{"PYRO_SSL_CACERTS=" + f.CACert}, wantPython: "OK hello TLSv1.3"},
		{name: "1-way with a client cert not asked for", env: []string{"PYRO_SSL_CACERTS=" + f.CACert,
			"PYRO_SSL_CLIENTCERT=" + strangerCert, "PYRO_SSL_CLIENTKEY=" + strangerKey}, wantPython: "OK hello"},
		{name: "2-way", require: true, env: []string{"PYRO_SSL_CACERTS=" + f.CACert,
			"PYRO_SSL_CLIENTCERT=" + f.ClientCert, "PYRO_SSL_CLIENTKEY=" + f.ClientKey}, wantPython: "OK hello"},
		{name: "2-way without client cert", require: true, env: []string{"PYRO_SSL_CACERTS=" + f.CACert},
			wantPython: "ERR SSLError", wantServer: ReasonClientCertRequired},
		{name: "2-way untrusted client cert", require: true, env: []string{"PYRO_SSL_CACERTS=" + f.CACert,
			"PYRO_SSL_CLIENTCERT=" + strangerCert, "PYRO_SSL_CLIENTKEY=" + strangerKey},
			wantPython: "ERR SSLError", wantServer: ReasonClientCertRejected},
		{name: "wrong CA", env: []string{"PYRO_SSL_CACERTS=" + otherCA},
			wantPython: "ERR SSLCertVerificationError", wantServer: ReasonServerCertRejected},
		{name: "IP not in the certificate", listen: "127.0.0.2", env: []string{"PYRO_SSL_CACERTS=" + f.CACert},
			wantPython: "ERR SSLCertVerificationError", wantServer: ReasonServerCertRejected},
		{name: "plain Pyro client", mode: "plain", wantPython: "ERR", wantServer: ReasonPlainPyro},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := serverSettings(f)
			s.RequireClientCert = tc.require
			cfg, err := ServerConfig(s)
			if err != nil {
				t.Fatal(err)
			}
			srv := startEcho(t, cfg)
			host, port, _ := net.SplitHostPort(srv.addr())
			if tc.listen != "" {
				ln, err := net.Listen("tcp", tc.listen+":0")
				if err != nil {
					t.Fatal(err)
				}
				srv.ln.Close()
				srv = startEchoOn(t, ln, cfg)
				host, port, _ = net.SplitHostPort(srv.addr())
			}
			mode := tc.mode
			if mode == "" {
				mode = "tls"
			}
			env := pypeer.Env(append([]string{"PYRO_SSL=1"}, tc.env...)...)
			out, err := pypeer.Run(t, 20*time.Second, env, script, host, port, mode)
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			if !strings.HasPrefix(out, tc.wantPython) {
				t.Fatalf("python printed %q, want %q...", out, tc.wantPython)
			}
			if tc.wantServer != ReasonOther {
				if serr := srv.serverErr(t); reasonOf(serr) != tc.wantServer {
					t.Errorf("server reason %d, want %d: %v", reasonOf(serr), tc.wantServer, serr)
				}
			}
		})
	}
}

// TestPythonServer: our client config against a server with the context
// Pyro4 builds (getSSLcontext(servercert=...)), 1-way and 2-way, its key
// encrypted as OpenSSL 3 writes it.
func TestPythonServer(t *testing.T) {
	pypeer.Require(t)
	f := tlstest.WriteFiles(t)
	dir := t.TempDir()
	// The server key is the openssl-made PBES2 fixture: Python reads the
	// same file we decrypt.
	encKey := filepath.Join("testdata", "ec-pbes2-aes256.pem")
	fixture := readFixtureKey(t, "ec-pkcs8.pem").(crypto.Signer)
	serverCert, _ := f.CA.Issue(t, tlstest.Leaf{CommonName: "localhost", Names: tlstest.ServerNames(), Key: fixture}).Write(t, dir, "py-server")
	absKey, _ := filepath.Abs(encKey)
	base := []string{"PYRO_SSL=1", "PYRO_SSL_SERVERCERT=" + serverCert, "PYRO_SSL_SERVERKEY=" + absKey,
		"PYRO_SSL_SERVERKEYPASSWD=" + fixturePass, "PYRO_SSL_CACERTS=" + f.CACert}
	script := pyScript(t, "server.py")
	start := func(t *testing.T, extra ...string) (*pypeer.Process, string) {
		scriptFile := filepath.Join(t.TempDir(), "server.py")
		if err := os.WriteFile(scriptFile, []byte(script), 0o600); err != nil {
			t.Fatal(err)
		}
		p := pypeer.Start(t, pypeer.Env(append(base, extra...)...), pypeer.Python, scriptFile)
		line := p.WaitLine(t, "port ", 20*time.Second)
		port, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line[strings.Index(line, "port "):], "port ")))
		if err != nil {
			t.Fatalf("port line %q: %v", line, err)
		}
		return p, fmt.Sprintf("127.0.0.1:%d", port)
	}

	t.Run("1-way", func(t *testing.T) {
		_, addr := start(t)
		for _, host := range []string{"localhost", "127.0.0.1"} {
			if _, err := dialEcho(t, addr, host, mustClient(t, clientSettings(f, false))); err != nil {
				t.Errorf("%s: %v", host, err)
			}
		}
		if _, err := dialEcho(t, addr, "127.0.0.2", mustClient(t, clientSettings(f, false))); reasonOf(err) != ReasonHostname {
			t.Errorf("127.0.0.2: err = %v, want a host name failure", err)
		}
		if _, err := dialEcho(t, addr, "localhost", mustClient(t, Settings{SSL: true})); reasonOf(err) != ReasonUnknownAuthority {
			t.Errorf("without SSL_CACERTS: err = %v, want unknown authority", err)
		}
	})
	t.Run("2-way", func(t *testing.T) {
		p, addr := start(t, "PYRO_SSL_REQUIRECLIENTCERT=yes")
		if _, err := dialEcho(t, addr, "localhost", mustClient(t, clientSettings(f, true))); err != nil {
			t.Fatalf("with client cert: %v", err)
		}
		p.WaitLine(t, "served ((('commonName', 'pyro4 test client'),),)", 10*time.Second)
		_, err := dialEcho(t, addr, "localhost", mustClient(t, clientSettings(f, false)))
		// Under TLS 1.3 OpenSSL refuses the missing certificate after our
		// Finished: its alert usually arrives, but it may close first, and
		// then our last handshake write meets a reset. Either way the
		// message must point at the client certificate.
		switch r := reasonOf(err); {
		case r == ReasonClientCertRequired && strings.Contains(err.Error(), "requires a client certificate"):
		case r == ReasonClosed && strings.Contains(err.Error(), "certificate"):
		default:
			t.Errorf("without client cert: err = %v, want 'requires a client certificate' (or, when the server closes first, a close that names the certificate)", err)
		}
		p.WaitLine(t, "handshake-error", 10*time.Second)
	})
}

// TestPythonHostnames compares ForHost's checks with Python's
// check_hostname for the same certificate and names. The one deliberate
// difference: Go refuses a certificate that names its host only in the
// common name.
func TestPythonHostnames(t *testing.T) {
	pypeer.Require(t)
	f := tlstest.WriteFiles(t)
	dir := t.TempDir()
	cnCert, cnKey := f.CA.Issue(t, tlstest.Leaf{CommonName: "localhost"}).Write(t, dir, "cn")
	wildCert, wildKey := f.CA.Issue(t, tlstest.Leaf{CommonName: "w", Names: []string{"*.example.test", "127.0.0.1"}}).Write(t, dir, "wild")
	script := pyScript(t, "hostnames.py")
	tests := []struct {
		cert, key string
		hosts     []string
		differ    map[string]bool // hosts where Go refuses and Python accepts
	}{
		{f.ServerCert, f.ServerKey, []string{"localhost", "LOCALHOST", "127.0.0.1", "127.0.1.1", "127.0.0.2", "otherhost", "localhost.localdomain"}, nil},
		{wildCert, wildKey, []string{"ns.example.test", "a.b.example.test", "example.test", "127.0.0.1", "127.0.0.2"}, nil},
		{cnCert, cnKey, []string{"localhost", "otherhost"}, map[string]bool{"localhost": true}},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.cert), func(t *testing.T) {
			cfg, err := ServerConfig(Settings{SSL: true, ServerCert: tc.cert, ServerKey: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			srv := startEcho(t, cfg)
			_, port, _ := net.SplitHostPort(srv.addr())
			out, err := pypeer.Run(t, 20*time.Second, pypeer.Env("PYRO_SSL=1", "PYRO_SSL_CACERTS="+f.CACert), script, append([]string{port}, tc.hosts...)...)
			if err != nil {
				t.Fatalf("python: %v\n%s", err, out)
			}
			python := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				fields := strings.Fields(line)
				if len(fields) >= 2 {
					python[fields[0]] = fields[1] == "OK"
				}
			}
			client := mustClient(t, clientSettings(f, false))
			for _, h := range tc.hosts {
				pyOK, ok := python[h]
				if !ok {
					t.Fatalf("python printed nothing for %s:\n%s", h, out)
				}
				_, err := dialEcho(t, srv.addr(), h, client)
				goOK := err == nil
				want := pyOK
				if tc.differ[h] {
					want = false
					if !pyOK {
						t.Errorf("%s: Python refused it too; the documented difference is gone", h)
					}
				}
				if goOK != want {
					t.Errorf("%s: Go ok=%v (%v), Python ok=%v", h, goOK, err, pyOK)
				}
			}
		})
	}
}

// TestPythonBools: ParseBool accepts and refuses what Pyro4's
// configuration does.
func TestPythonBools(t *testing.T) {
	pypeer.Require(t)
	values := []string{"1", "0", "yes", "no", "on", "off", "true", "false", "TRUE", "No", "oN", "", " 1", "2", "y", "enabled", "True "}
	out, err := pypeer.Run(t, 20*time.Second, pypeer.Env(), pyScript(t, "bools.py"), values...)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(values) {
		t.Fatalf("python printed %d lines for %d values:\n%s", len(lines), len(values), out)
	}
	for i, v := range values {
		got, err := ParseBool(v)
		ours := fmt.Sprintf("%q %v", v, got)
		if err != nil {
			ours = fmt.Sprintf("%q ERR", v)
		}
		// Python's repr quotes with ', ours with ".
		py := strings.ReplaceAll(lines[i], "'", `"`)
		if py != ours {
			t.Errorf("value %q: Pyro4 %s, ParseBool %s", v, lines[i], ours)
		}
	}
}
