package nameserver

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/tlsconf"
	"github.com/pyro4/pyro4/tlsconf/tlstest"
	"github.com/pyro4/pyro4/wire"
)

// tlsServerConfig is a 1-way (or, with require, 2-way) server config over
// f's files, as the ns command builds it.
func tlsServerConfig(t testing.TB, f *tlstest.Files, require bool) *tls.Config {
	t.Helper()
	cfg, err := tlsconf.ServerConfig(tlsSettings(f, require))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func tlsSettings(f *tlstest.Files, require bool) tlsconf.Settings {
	return tlsconf.Settings{SSL: true, ServerCert: f.ServerCert, ServerKey: f.ServerKey, CACerts: f.CACert, RequireClientCert: require}
}

// tlsClientConfig trusts f's CA only.
func tlsClientConfig(f *tlstest.Files) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(f.CA.Cert)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// dialTLSTest is dialTest over TLS; the handshake is done when it returns.
func dialTLSTest(t testing.TB, s *Server, serializer string, cfg *tls.Config) (*testClient, *tls.Conn) {
	t.Helper()
	tc := dialTest(t, s, serializer)
	conn := tls.Client(tc.c, cfg)
	if err := conn.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	tc.c, tc.br = conn, bufio.NewReader(conn)
	return tc, conn
}

func TestNewRefusesTLSWithoutCertificate(t *testing.T) {
	_, err := New(Options{Host: "127.0.0.1", NoBroadcast: true, TLS: &tls.Config{}})
	if err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Fatalf("New with an empty TLS config: %v, want an error naming the missing certificate", err)
	}
}

// TestTLSConnections: the Pyro protocol over TLS on TCP and on a Unix
// socket, with HMAC on top; and the log lines for a client speaking the
// wrong protocol either way.
func TestTLSConnections(t *testing.T) {
	f := tlstest.WriteFiles(t)
	log := &logRecorder{}
	sock := filepath.Join(t.TempDir(), "ns.sock")
	tcp := startServer(t, Options{NoBroadcast: true, TLS: tlsServerConfig(t, f, false), Logger: slog.New(log)})
	unix := startServer(t, Options{UnixSocket: sock, TLS: tlsServerConfig(t, f, false), Logger: slog.New(log)})
	hmac := startServer(t, Options{NoBroadcast: true, TLS: tlsServerConfig(t, f, false), HMACKey: []byte("secret")})
	plainLog := &logRecorder{}
	plain := startServer(t, Options{NoBroadcast: true, Logger: slog.New(plainLog)})

	t.Run("lookup over TLS", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			s    *Server
			key  []byte
			host string
		}{{"tcp", tcp, nil, "127.0.0.1"}, {"unix", unix, nil, "localhost"}, {"hmac", hmac, []byte("secret"), "127.0.0.1"}} {
			t.Run(tt.name, func(t *testing.T) {
				cfg := tlsClientConfig(f)
				cfg.ServerName = tt.host
				tc, conn := dialTLSTest(t, tt.s, "serpent", cfg)
				tc.key = tt.key
				tc.connect(NameServerName)
				v, err := tc.call(NameServerName, "lookup", NameServerName)
				if err != nil {
					t.Fatal(err)
				}
				if u, err := wire.URIFromValue(v); err != nil || u.String() != tt.s.URI().String() {
					t.Errorf("lookup = %v, want %s", v, tt.s.URI())
				}
				if st := conn.ConnectionState(); st.Version < tls.VersionTLS12 {
					t.Errorf("TLS version %x", st.Version)
				}
			})
		}
	})

	t.Run("plain Pyro client on the TLS port", func(t *testing.T) {
		tc := dialTest(t, tcp, "serpent")
		d := wire.NewDict(1)
		d.Append("handshake", "hello")
		data, _ := tc.codec.Marshal(d)
		tc.send(&wire.Message{Type: wire.MsgConnect, SerializerID: tc.codec.ID(), Data: data})
		m, err := tc.recv()
		if err != nil {
			t.Fatalf("a plain client on the TLS port got no answer: %v", err)
		}
		v, _ := mustCodec("marshal").Unmarshal(m.Data)
		if m.Type != wire.MsgConnectFail || v != plainPyroRefusal {
			t.Fatalf("a plain client on the TLS port got type %d %v, want CONNECTFAIL %q", m.Type, v, plainPyroRefusal)
		}
		addr := tc.c.LocalAddr().String()
		waitFor(t, "the log line", 5*time.Second, func() bool {
			return len(log.matching("WARN TLS handshake failed", "remote="+addr, "plain Pyro")) == 1
		})
	})

	t.Run("TLS client on a plain port", func(t *testing.T) {
		tc := dialTest(t, plain, "serpent")
		conn := tls.Client(tc.c, tlsClientConfig(f))
		err := conn.Handshake()
		var he *tlsconf.HandshakeError
		if err = tlsconf.ClientError(err, plain.URI().Location(), false); !errors.As(err, &he) || he.Reason != tlsconf.ReasonPlainPyro {
			t.Errorf("handshake with a plain server: %v, want it named as plain Pyro", err)
		}
		addr := tc.c.LocalAddr().String()
		waitFor(t, "the log line", 5*time.Second, func() bool {
			return len(plainLog.matching("WARN a TLS client connected to this plain", "remote="+addr)) == 1
		})
	})

	t.Run("plain clients on a plain port log nothing of TLS", func(t *testing.T) {
		tc := dialTest(t, plain, "serpent")
		tc.connect(NameServerName)
		if _, err := tc.call(NameServerName, "ping"); err != nil {
			t.Fatal(err)
		}
		if got := plainLog.matching("remote=" + tc.c.LocalAddr().String()); len(got) != 0 {
			t.Errorf("log lines for a plain client: %q", got)
		}
	})
}

// TestTLSSilentClient: a client that connects to the TLS port and says
// nothing holds only its own connection; another client's lookup completes
// while it is held, and the silent one is still open afterwards.
func TestTLSSilentClient(t *testing.T) {
	f := tlstest.WriteFiles(t)
	s := startServer(t, Options{NoBroadcast: true, TLS: tlsServerConfig(t, f, false), TLSHandshakeTimeout: time.Minute})
	silent, err := net.Dial("tcp", s.InternalURI().Location())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitFor(t, "the silent connection to be accepted", 5*time.Second, func() bool { return s.connCount() == 1 })

	done := make(chan error, 1)
	go func() {
		// dialTLSTest fails the test from this goroutine only through
		// Fatal, which must not be called here: do the steps by hand.
		c, err := net.Dial("tcp", s.InternalURI().Location())
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		conn := tls.Client(c, tlsClientConfig(f))
		if err := conn.Handshake(); err != nil {
			done <- err
			return
		}
		tc := &testClient{t: t, c: conn, br: bufio.NewReader(conn), codec: mustCodec("serpent")}
		done <- lookupOnce(tc)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("lookup while a silent client is held: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the lookup did not complete while a silent client was held")
	}
	silent.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var ne net.Error
	if _, err := silent.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("the silent connection was not held open: read %v", err)
	}
}

func mustCodec(name string) wire.Codec {
	c, _ := wire.CodecByName(name)
	return c
}

// lookupOnce does the Pyro handshake and one lookup, returning errors
// instead of failing the test, for use off the test goroutine.
func lookupOnce(tc *testClient) error {
	d := wire.NewDict(2)
	d.Append("handshake", "hello")
	d.Append("object", NameServerName)
	data, err := tc.codec.Marshal(d)
	if err != nil {
		return err
	}
	hs := &wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: tc.codec.ID(), Data: data}
	call, err := wire.MarshalCall(tc.codec, wire.Call{Object: NameServerName, Method: "lookup", Args: []wire.Value{NameServerName}})
	if err != nil {
		return err
	}
	req := &wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: tc.codec.ID(), Data: call}
	for _, m := range []*wire.Message{hs, req} {
		b, err := m.Pack(nil)
		if err != nil {
			return err
		}
		if _, err := tc.c.Write(b); err != nil {
			return err
		}
		reply, err := tc.recv()
		if err != nil {
			return err
		}
		if reply.Type != wire.MsgConnectOK && reply.Type != wire.MsgResult || reply.Flags&wire.FlagException != 0 {
			return errors.New("refused")
		}
	}
	return nil
}

// TestTLSRotation: a server on a Reloader's config; the files are replaced
// and reloaded while a client holds a connection. New connections get the
// new certificate, the held one keeps working, and a broken file keeps the
// certificate in use.
func TestTLSRotation(t *testing.T) {
	f := tlstest.WriteFiles(t)
	r, err := tlsconf.NewReloader(tlsSettings(f, false))
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{NoBroadcast: true, TLS: r.Config()})
	held, heldConn := dialTLSTest(t, s, "serpent", tlsClientConfig(f))
	held.connect(NameServerName)
	oldSerial := heldConn.ConnectionState().PeerCertificates[0].SerialNumber

	next := f.CA.Server(t)
	writeAtomically(t, f.ServerCert, next.CertPEM)
	writeAtomically(t, f.ServerKey, next.KeyPEM)
	if err := r.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	fresh, freshConn := dialTLSTest(t, s, "serpent", tlsClientConfig(f))
	fresh.connect(NameServerName)
	if got := freshConn.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(next.Cert.SerialNumber) != 0 {
		t.Errorf("a new connection got certificate %v, want the new one %v (old %v)", got, next.Cert.SerialNumber, oldSerial)
	}
	for _, tc := range []*testClient{held, fresh} {
		if _, err := tc.call(NameServerName, "ping"); err != nil {
			t.Errorf("call after rotation: %v", err)
		}
	}

	writeAtomically(t, f.ServerCert, []byte("not a certificate\n"))
	if err := r.Reload(); err == nil {
		t.Fatal("Reload of a broken certificate file succeeded")
	}
	again, againConn := dialTLSTest(t, s, "serpent", tlsClientConfig(f))
	again.connect(NameServerName)
	if got := againConn.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(next.Cert.SerialNumber) != 0 {
		t.Errorf("after a broken reload a new connection got %v, want the last good %v", got, next.Cert.SerialNumber)
	}
}

// writeAtomically replaces a file by rename, as certificate tools do.
func writeAtomically(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestTLSLogLimit: one line per kind per interval; the next line after a
// quiet interval says how many were held back; kinds are counted apart.
func TestTLSLogLimit(t *testing.T) {
	rec := &logRecorder{}
	log := slog.New(rec)
	l := newTLSLogLimiter(500 * time.Millisecond)
	for range 5 {
		l.warn(log, tlsLogKey(tlsconf.ReasonTimeout), "timeout", "remote", "a")
		l.warn(log, logKeyTLSOnPlain, "plain", "remote", "b")
	}
	if got := rec.matching("WARN"); len(got) != 2 {
		t.Fatalf("after 5 of each kind: %q, want one line per kind", got)
	}
	time.Sleep(600 * time.Millisecond)
	l.warn(log, tlsLogKey(tlsconf.ReasonTimeout), "timeout", "remote", "c")
	if got := rec.matching("WARN timeout", "remote=c", "suppressed=4"); len(got) != 1 {
		t.Errorf("line after the interval: %q, want suppressed=4", rec.matching("WARN timeout"))
	}
}
