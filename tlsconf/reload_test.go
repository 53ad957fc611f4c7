package tlsconf

import (
	"context"
	"crypto/tls"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

// replaceFile writes data beside path and renames it over path, as
// rotation tools do, so no reader sees half a file.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func peerSerial(c *tls.Conn) string {
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestRotation replaces the server's files while a client holds a
// connection: new handshakes see the new certificate, the old connection
// keeps working, and a broken file keeps the last good material.
func TestRotation(t *testing.T) {
	f := tlstest.WriteFiles(t)
	r, err := NewReloader(serverSettings(f))
	if err != nil {
		t.Fatal(err)
	}
	srv := startEcho(t, r.Config())
	client := mustClient(t, clientSettings(f, false))
	old, err := dialEcho(t, srv.addr(), "localhost", client)
	if err != nil {
		t.Fatal(err)
	}
	first := peerSerial(old)

	if tried, err := r.ReloadIfChanged(); tried || err != nil {
		t.Fatalf("ReloadIfChanged without a change: tried=%v err=%v", tried, err)
	}

	next := f.CA.Server(t)
	replaceFile(t, f.ServerCert, next.CertPEM)
	replaceFile(t, f.ServerKey, next.KeyPEM)
	if tried, err := r.ReloadIfChanged(); !tried || err != nil {
		t.Fatalf("ReloadIfChanged after replacing the files: tried=%v err=%v", tried, err)
	}
	if got := r.Leaf().SerialNumber; got.Cmp(next.Cert.SerialNumber) != 0 {
		t.Fatalf("Leaf serial %v, want the new %v", got, next.Cert.SerialNumber)
	}
	fresh, err := dialEcho(t, srv.addr(), "localhost", client)
	if err != nil {
		t.Fatal(err)
	}
	if got := peerSerial(fresh); got != next.Cert.SerialNumber.String() || got == first {
		t.Errorf("new connection sees serial %s, want the new %s", got, next.Cert.SerialNumber)
	}
	if err := echo(old, "still there"); err != nil {
		t.Errorf("old connection after rotation: %v", err)
	}
	if peerSerial(old) != first {
		t.Error("old connection's certificate changed")
	}

	// A broken certificate: the error names the file, the old material stays.
	replaceFile(t, f.ServerCert, []byte("garbage"))
	err = r.Reload()
	if err == nil || !strings.Contains(err.Error(), "no CERTIFICATE block in "+f.ServerCert) {
		t.Fatalf("Reload of a broken file: %v", err)
	}
	if tried, _ := r.ReloadIfChanged(); tried {
		t.Error("the same broken file was tried again")
	}
	after, err := dialEcho(t, srv.addr(), "localhost", client)
	if err != nil {
		t.Fatalf("handshake after a failed reload: %v", err)
	}
	if got := peerSerial(after); got != next.Cert.SerialNumber.String() {
		t.Errorf("after a failed reload the serial is %s, want the last good %s", got, next.Cert.SerialNumber)
	}
	// A certificate that does not match the key is broken too.
	replaceFile(t, f.ServerCert, f.CA.Server(t).CertPEM)
	if _, err := r.ReloadIfChanged(); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched pair: err = %v", err)
	}
}

// TestRotationCA: a new CA in SSL_CACERTS is trusted for client
// certificates from the next handshake on.
func TestRotationCA(t *testing.T) {
	f := tlstest.WriteFiles(t)
	s := serverSettings(f)
	s.RequireClientCert = true
	r, err := NewReloader(s)
	if err != nil {
		t.Fatal(err)
	}
	srv := startEcho(t, r.Config())
	newCA := tlstest.NewCA(t, "new CA")
	dir := t.TempDir()
	cert, key := newCA.Client(t, "new client").Write(t, dir, "c")
	client := mustClient(t, Settings{SSL: true, CACerts: f.CACert, ClientCert: cert, ClientKey: key})
	if _, err := dialEcho(t, srv.addr(), "localhost", client); err == nil {
		t.Fatal("client of the new CA accepted before the CA file changed")
	}
	replaceFile(t, f.CACert, append(append([]byte{}, f.CA.CertPEM...), newCA.CertPEM...))
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := dialEcho(t, srv.addr(), "localhost", client); err != nil {
		t.Errorf("client of the new CA after the reload: %v", err)
	}

	// Removing a CA locks its clients out at once, even one that could
	// resume an earlier session (crypto/tls re-verifies a resumed chain
	// against the ClientCAs of the handshake's config).
	oldClient := mustClient(t, clientSettings(f, true))
	oldClient.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	if _, err := dialEcho(t, srv.addr(), "localhost", oldClient); err != nil {
		t.Fatalf("client of the old CA: %v", err)
	}
	replaceFile(t, f.CACert, newCA.CertPEM)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if c, err := dialEcho(t, srv.addr(), "localhost", oldClient); err == nil {
		t.Errorf("client of the removed CA accepted after the reload (resumed: %v)", c.ConnectionState().DidResume)
	}
}

// TestWatch: Watch notices a replaced certificate by itself and reports
// the reload, and reports a broken file without dropping the good one.
func TestWatch(t *testing.T) {
	f := tlstest.WriteFiles(t)
	r, err := NewReloader(serverSettings(f))
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan ReloadEvent, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// The interval is long: the change must be seen through fsnotify.
	go func() { done <- r.Watch(ctx, time.Hour, func(e ReloadEvent) { events <- e }) }()
	defer func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Watch returned %v", err)
		}
	}()
	wait := func() ReloadEvent {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no reload event within 10s")
			return ReloadEvent{}
		}
	}
	// Give the watcher time to start; a change before it would be missed
	// by fsnotify (the interval check would find it an hour later).
	deadline := time.Now().Add(5 * time.Second)
	next := f.CA.Server(t)
	for {
		// The key first: until the certificate follows, the pair does
		// not match, and Watch must simply try again on the next event.
		replaceFile(t, f.ServerKey, next.KeyPEM)
		replaceFile(t, f.ServerCert, next.CertPEM)
		select {
		case e := <-events:
			if e.Err != nil {
				// Caught between the two renames; the next round fixes it.
				t.Logf("reload: %v", e.Err)
				continue
			}
			if e.Leaf.SerialNumber.Cmp(next.Cert.SerialNumber) != 0 {
				t.Fatalf("event leaf serial %v, want %v", e.Leaf.SerialNumber, next.Cert.SerialNumber)
			}
		case <-time.After(500 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("Watch saw no change within 5s")
			}
			continue
		}
		break
	}
	replaceFile(t, f.ServerCert, []byte("garbage"))
	e := wait()
	if e.Err == nil || !strings.Contains(e.Err.Error(), f.ServerCert) {
		t.Errorf("broken file: event error %v, want it to name %s", e.Err, f.ServerCert)
	}
	if e.Leaf.SerialNumber.Cmp(next.Cert.SerialNumber) != 0 {
		t.Errorf("after a broken file the leaf is %v, want the last good %v", e.Leaf.SerialNumber, next.Cert.SerialNumber)
	}
}
