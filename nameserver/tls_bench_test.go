package nameserver

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

// tlsLookupServer is lookupServer's name space behind 1-way TLS, with the
// client configuration that trusts it.
func tlsLookupServer(b *testing.B) (*Server, *tls.Config, []byte) {
	f := tlstest.WriteFiles(b)
	s, req := lookupServerWith(b, Options{NoBroadcast: true, TLS: tlsServerConfig(b, f, false)})
	return s, tlsClientConfig(f), req
}

// dialHandshakeTLS is dialHandshake over TLS: connect, the TLS handshake,
// then the serpent Pyro handshake.
func dialHandshakeTLS(s *Server, cfg *tls.Config) (net.Conn, error) {
	raw, err := net.Dial("tcp", s.InternalURI().Location())
	if err != nil {
		return nil, err
	}
	return handshake(tls.Client(raw, cfg))
}

// BenchmarkLookup64TLS is BenchmarkLookup64 on persistent TLS connections:
// their ratio is what TLS costs the hot path.
func BenchmarkLookup64TLS(b *testing.B) {
	s, cfg, req := tlsLookupServer(b)
	runClients(b, func() (net.Conn, error) { return dialHandshakeTLS(s, cfg) },
		func(c *clientConn) error { return c.roundTrip(req) })
}

// BenchmarkConnectLookupTLS measures a short-lived client over TLS, one at
// a time: connect, a full TLS handshake (no session resumption, as a fresh
// Pyro4 process makes it), the Pyro handshake, one lookup, close.
func BenchmarkConnectLookupTLS(b *testing.B) {
	s, cfg, req := tlsLookupServer(b)
	b.ResetTimer()
	for range b.N {
		c, err := dialHandshakeTLS(s, cfg)
		if err != nil {
			b.Fatal(err)
		}
		err = newClientConn(c).roundTrip(req)
		c.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnectLookup is BenchmarkConnectLookupTLS without TLS.
func BenchmarkConnectLookup(b *testing.B) {
	s, req := lookupServer(b)
	b.ResetTimer()
	for range b.N {
		c, err := dialHandshake(s)
		if err != nil {
			b.Fatal(err)
		}
		err = newClientConn(c).roundTrip(req)
		c.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}
