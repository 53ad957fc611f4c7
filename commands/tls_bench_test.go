package commands

import (
	"context"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/locator"
	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/tlsconf"
	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

// BenchmarkTLSConnectLookup is a short-lived client, one at a time, as a
// script's nsc or resolve is: connect, a full TLS handshake, the Pyro
// handshake, one lookup, close; against pyro4-ns with PYRO_SSL and against
// this name server, with the same client.
func BenchmarkTLSConnectLookup(b *testing.B) {
	f := tlstest.WriteFiles(b)
	client, err := tlsconf.ClientConfig(tlsconf.Settings{SSL: true, CACerts: f.CACert})
	if err != nil {
		b.Fatal(err)
	}
	server, err := tlsconf.ServerConfig(tlsconf.Settings{SSL: true, ServerCert: f.ServerCert, ServerKey: f.ServerKey})
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, port int) {
		uri := locator.NameServerURI("127.0.0.1", port, "")
		opts := locator.Options{Timeout: 10 * time.Second, TLS: client}
		b.ResetTimer()
		for range b.N {
			ns, err := locator.DialNameServer(context.Background(), uri, opts)
			if err != nil {
				b.Fatal(err)
			}
			_, err = ns.Lookup("Pyro.NameServer")
			ns.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("pyro4-ns", func(b *testing.B) {
		_, port := pypeer.StartPythonNS(b, pypeer.Env("PYRO_SSL=1", "PYRO_SSL_SERVERCERT="+f.ServerCert, "PYRO_SSL_SERVERKEY="+f.ServerKey))
		run(b, port)
	})
	b.Run("pyro4", func(b *testing.B) {
		s, err := nameserver.New(nameserver.Options{Host: "127.0.0.1", NoBroadcast: true, TLS: server})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx) }()
		defer func() { cancel(); s.Close(); <-done }()
		run(b, s.URI().Port)
	})
}
