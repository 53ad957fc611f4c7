package locator

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/pyro4/pyro4/tlsconf"
	"github.com/pyro4/pyro4/wire"
)

// unixServerName is the name a TLS connection over a Unix socket checks
// when Options.TLS names none. Python's Pyro4 checks "/" there (the first
// character of the socket path), which no certificate names, so it cannot
// use TLS over a Unix socket at all; a name server's certificate for the
// loopback names always has localhost.
const unixServerName = "localhost"

// wrapTLS puts the client side of TLS over a freshly dialed connection to
// uri; the handshake runs in startTLS, under the dial's deadline. The host
// checked is the URI's, as Python's check_hostname does.
func wrapTLS(nc net.Conn, uri wire.URI, cfg *tls.Config) net.Conn {
	if cfg == nil {
		return nc
	}
	host := uri.Host
	if uri.Sockname != "" {
		host = cfg.ServerName
		if host == "" {
			host = unixServerName
		}
	}
	return tls.Client(nc, tlsconf.ForHost(cfg, host))
}

// startTLS runs the TLS handshake of a TLS connection; a plain one has
// none.
func (c *Conn) startTLS() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	return c.tlsError(tc.Handshake())
}

// tlsError explains a failed handshake. On a plain connection err is
// returned as it is.
func (c *Conn) tlsError(err error) error {
	if err == nil || c.opts.TLS == nil {
		return err
	}
	sent := len(c.opts.TLS.Certificates) > 0 || c.opts.TLS.GetClientCertificate != nil
	return tlsconf.ClientError(err, c.uri.Location(), sent)
}

// tlsExchangeError explains a failure of the Pyro handshake right after
// the TLS one, when it is the server refusing our certificate: under TLS
// 1.3 a server does that only after the client's side of the handshake is
// done, so the refusal is the first read's error. Anything else, such as
// the server closing, is a Pyro-level failure and stays as it is, with a
// hint under TLS 1.3: a server that refuses the certificate and closes
// while our first request is unread resets the connection, and the reset
// can overtake its alert.
func (c *Conn) tlsExchangeError(err error) error {
	e := c.tlsError(err)
	var he *tlsconf.HandshakeError
	if errors.As(e, &he) && (he.Reason == tlsconf.ReasonClientCertRequired || he.Reason == tlsconf.ReasonClientCertRejected) {
		return e
	}
	tc, ok := c.nc.(*tls.Conn)
	closed := errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if ok && closed && tc.ConnectionState().Version == tls.VersionTLS13 {
		return fmt.Errorf("the server closed the connection right after the TLS handshake (%s); "+
			"under TLS 1.3 that is how a server refuses a missing or untrusted client certificate: "+
			"check SSL_CLIENTCERT and SSL_CLIENTKEY here and SSL_CACERTS there", netReason(err))
	}
	return err
}

// tlsConnectError is the CommunicationError for an explained TLS failure:
// its text already names the server and what to fix.
func tlsConnectError(err error) (*wire.Exception, bool) {
	var he *tlsconf.HandshakeError
	if !errors.As(err, &he) {
		return nil, false
	}
	return &wire.Exception{Class: wire.ClassCommunicationError, Message: "cannot connect: " + he.Error()}, true
}
