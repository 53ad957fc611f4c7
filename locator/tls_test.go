package locator

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/tlsconf"
	"github.com/pyro4/pyro4/tlsconf/tlstest"
	"github.com/pyro4/pyro4/wire"
)

// clientTLS is Pyro4's client context for s, as the commands build it.
func clientTLS(t *testing.T, s tlsconf.Settings) *tls.Config {
	t.Helper()
	cfg, err := tlsconf.ClientConfig(s)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestTLSAgainstPython: our client with Pyro4's SSL items against pyro4-ns
// running with PYRO_SSL, 1-way and 2-way, over TCP and a Unix socket
// (Python's own client cannot do TLS over a Unix socket: it checks the
// host name "/"), and the failures explained.
func TestTLSAgainstPython(t *testing.T) {
	pypeer.Require(t)
	f := tlstest.WriteFiles(t)
	dir := t.TempDir()
	other := tlstest.NewCA(t, "other CA")
	otherCA := other.WriteCert(t, dir, "other-ca.crt")
	strangerCert, strangerKey := other.Client(t, "stranger").Write(t, dir, "stranger")
	server := []string{"PYRO_SSL=1", "PYRO_SSL_SERVERCERT=" + f.ServerCert, "PYRO_SSL_SERVERKEY=" + f.ServerKey}
	_, oneway := pypeer.StartPythonNS(t, pypeer.Env(server...))
	_, twoway := pypeer.StartPythonNS(t, pypeer.Env(append(server, "PYRO_SSL_REQUIRECLIENTCERT=1", "PYRO_SSL_CACERTS="+f.CACert)...))
	_, plain := pypeer.StartPythonNS(t, pypeer.Env())
	sock := filepath.Join(dir, "ns.sock")
	unix := pypeer.Start(t, pypeer.Env(server...), pypeer.NS(t), "-u", sock)
	unix.WaitLine(t, "URI =", 20*time.Second)

	at := func(port int) wire.URI { return NameServerURI("127.0.0.1", port, "") }
	trusted := tlsconf.Settings{SSL: true, CACerts: f.CACert}
	withCert := trusted
	withCert.ClientCert, withCert.ClientKey = f.ClientCert, f.ClientKey
	stranger := trusted
	stranger.ClientCert, stranger.ClientKey = strangerCert, strangerKey

	tests := []struct {
		name     string
		uri      wire.URI
		settings tlsconf.Settings
		text     string // in the error; "": the session works
	}{
		{name: "1-way", uri: at(oneway), settings: trusted},
		{name: "1-way by name", uri: NameServerURI("localhost", oneway, ""), settings: trusted},
		{name: "2-way", uri: at(twoway), settings: withCert},
		{name: "unix socket", uri: NameServerURI("", 0, sock), settings: trusted},
		{name: "2-way without a client certificate", uri: at(twoway), settings: trusted, text: "client certificate"},
		{name: "2-way with an untrusted client certificate", uri: at(twoway), settings: stranger, text: "client certificate"},
		{name: "unknown authority", uri: at(oneway), settings: tlsconf.Settings{SSL: true, CACerts: otherCA}, text: "unknown authority"},
		{name: "server not speaking TLS", uri: at(plain), settings: trusted, text: "the server answered in plain Pyro"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, err := DialNameServer(context.Background(), tt.uri, Options{Timeout: 10 * time.Second, TLS: clientTLS(t, tt.settings)})
			if tt.text == "" {
				mustNil(t, "dial", err)
				defer ns.Close()
				name := "tls.go." + tt.name
				mustNil(t, "register", ns.Register(name, "PYRO:x@127.0.0.1:4711", true, []string{"m"}))
				u, err := ns.Lookup(name)
				mustNil(t, "lookup", err)
				if u.String() != "PYRO:x@127.0.0.1:4711" {
					t.Errorf("lookup = %s", u)
				}
				_, err = ns.Remove(name)
				mustNil(t, "remove", err)
				return
			}
			if err == nil {
				ns.Close()
				t.Fatal("connected")
			}
			wantException(t, err, wire.ClassCommunicationError, tt.text)
		})
	}
}

// TestTLSHostChecked: the host of the URI must be named in the server
// certificate, as with Python's check_hostname; an IP literal against IP
// SANs, a name against DNS SANs, never the common name.
func TestTLSHostChecked(t *testing.T) {
	ca := tlstest.NewCA(t, "test CA")
	dir := t.TempDir()
	caFile := ca.WriteCert(t, dir, "ca.crt")
	for _, tt := range []struct {
		name  string
		leaf  tlstest.Leaf
		host  string
		ok    bool
		error string
	}{
		{name: "IP SAN", leaf: tlstest.Leaf{CommonName: "x", Names: []string{"127.0.0.1"}}, host: "127.0.0.1", ok: true},
		{name: "DNS SAN", leaf: tlstest.Leaf{CommonName: "x", Names: []string{"localhost"}}, host: "localhost", ok: true},
		{name: "IP not named", leaf: tlstest.Leaf{CommonName: "x", Names: []string{"localhost"}}, host: "127.0.0.1",
			error: `not valid for "127.0.0.1": it names localhost`},
		{name: "common name only", leaf: tlstest.Leaf{CommonName: "localhost"}, host: "localhost",
			error: "a common name alone is not accepted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pair := ca.Issue(t, tt.leaf)
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair.TLS(t)}})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go serveHandshakes(ln)
			port := ln.Addr().(*net.TCPAddr).Port
			_, err = Dial(context.Background(), wire.URI{Protocol: "PYRO", Object: "x", Host: tt.host, Port: port},
				Options{Timeout: 5 * time.Second, TLS: clientTLS(t, tlsconf.Settings{SSL: true, CACerts: caFile})})
			if tt.ok {
				// The handshake passed; this listener speaks no Pyro.
				wantException(t, err, wire.ClassCommunicationError, fmt.Sprintf("cannot connect to %s:%d: the server closed the connection right after the TLS handshake", tt.host, port))
				return
			}
			wantException(t, err, wire.ClassCommunicationError, tt.error)
		})
	}
}

// serveHandshakes completes TLS handshakes and closes: enough for a client
// to see whether the certificate passed.
func serveHandshakes(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.(*tls.Conn).Handshake()
			c.Close()
		}()
	}
}
