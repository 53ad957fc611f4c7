package nameserver

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"github.com/pyro4/pyro4/metrics"
	"github.com/pyro4/pyro4/tlsconf"
	"github.com/pyro4/pyro4/wire"
)

// defaultTLSHandshakeTimeout bounds a TLS handshake when
// Options.TLSHandshakeTimeout is not set: long enough for a slow link, short
// enough that a client that connects and says nothing holds only its own
// goroutine and file descriptor for a while.
const defaultTLSHandshakeTimeout = 10 * time.Second

// tlsLogInterval is how often one kind of TLS failure is logged; the ones in
// between are counted and the count rides on the next line. A port scanner
// or a misconfigured client in a retry loop would otherwise fill the log.
const tlsLogInterval = 10 * time.Second

// checkTLS refuses a TLS configuration that could never complete a
// handshake, so that a server asked for TLS never starts without it.
func checkTLS(cfg *tls.Config) error {
	if cfg == nil {
		return nil
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return errors.New("TLS config has no certificate (Certificates, GetCertificate or GetConfigForClient)")
	}
	return nil
}

// wrapTLS puts the server side of TLS over an accepted connection; the
// handshake itself runs later, in the connection's goroutine (startTLS).
func (s *Server) wrapTLS(c net.Conn) net.Conn {
	if s.opts.TLS == nil {
		return c
	}
	return tls.Server(c, s.opts.TLS)
}

// startTLS runs the TLS handshake of a TLS connection under a deadline, in
// the connection's own goroutine: Pyro4 handshakes in its accept loop, where
// one silent client stalls every other. On a plain server it looks at the
// client's first bytes, so that a TLS client on a plain port is named in the
// log rather than showing up as a bad Pyro header. It reports whether the
// connection may go on to the Pyro handshake.
func (cn *conn) startTLS() bool {
	tc, ok := cn.c.(*tls.Conn)
	if !ok {
		cn.sniffPlain()
		return true
	}
	timeout := cn.s.opts.TLSHandshakeTimeout
	if timeout <= 0 {
		timeout = defaultTLSHandshakeTimeout
	}
	tc.SetDeadline(time.Now().Add(timeout))
	if err := tc.HandshakeContext(cn.s.ctx); err != nil {
		cn.refusePlainPyro(err)
		peer := tc.RemoteAddr().String()
		err = tlsconf.ServerError(err, peer)
		reason := tlsconf.ReasonOther
		var he *tlsconf.HandshakeError
		if errors.As(err, &he) {
			reason = he.Reason
		}
		cn.s.metrics.Error(metrics.ErrTLS)
		cn.s.tlsLog.warn(cn.s.log, tlsLogKey(reason), "TLS handshake failed", "remote", peer, "err", err.Error())
		return false
	}
	tc.SetDeadline(time.Time{})
	return true
}

// plainPyroRefusal is the CONNECTFAIL text a plain Pyro client gets from
// a TLS port: Pyro4 raises it as "connection to HOST:PORT rejected: ...".
const plainPyroRefusal = "this name server speaks TLS only: set PYRO_SSL=1 (and PYRO_SSL_CACERTS) to connect"

// refusePlainPyro answers a plain Pyro client on the TLS port in plain
// Pyro, with a CONNECTFAIL that says what to set, as net/http answers
// plain HTTP on an HTTPS port; Pyro4 just closes, and its client says
// "connection reset". crypto/tls hands over the connection for this
// (RecordHeaderError.Conn). The rest of the client's message is drained
// after a half-close, so that closing does not reset the connection
// before the client has read the answer.
func (cn *conn) refusePlainPyro(err error) {
	var rh tls.RecordHeaderError
	if !errors.As(err, &rh) || rh.Conn == nil || string(rh.RecordHeader[:4]) != "PYRO" {
		return
	}
	codec, ok := wire.CodecByID(wire.MarshalID)
	if !ok {
		return
	}
	data, merr := codec.Marshal(plainPyroRefusal)
	if merr != nil {
		return
	}
	m := wire.Message{Type: wire.MsgConnectFail, SerializerID: wire.MarshalID, Data: data}
	b, perr := m.Pack(cn.s.lim.HMACKey)
	if perr != nil {
		return
	}
	c := rh.Conn
	c.SetDeadline(time.Now().Add(time.Second))
	if _, werr := c.Write(b); werr != nil {
		return
	}
	if hc, ok := c.(interface{ CloseWrite() error }); ok {
		hc.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

// sniffPlain logs a TLS ClientHello arriving on a plain port. The peeked
// bytes stay buffered for the Pyro handshake, which then refuses them as
// before; a read error stays buffered too, so the handshake sees it once.
func (cn *conn) sniffPlain() {
	if t := cn.s.opts.CommTimeout; t > 0 {
		cn.c.SetReadDeadline(time.Now().Add(t))
	}
	if b, _ := cn.br.Peek(3); tlsconf.LooksLikeTLS(b) {
		cn.s.tlsLog.warn(cn.s.log, logKeyTLSOnPlain, "a TLS client connected to this plain (non-SSL) name server; enable SSL here or unset PYRO_SSL there",
			"remote", cn.c.RemoteAddr().String())
	}
}

// closeNow closes the connection's socket at once. On a TLS connection it
// skips the close_notify alert, which could wait on a client that does not
// read; a shutdown must not.
func (cn *conn) closeNow() error {
	if tc, ok := cn.c.(*tls.Conn); ok {
		return tc.NetConn().Close()
	}
	return cn.c.Close()
}

// tlsLogKey is what the TLS log limiter counts by: a handshake failure's
// reason, or logKeyTLSOnPlain.
type tlsLogKey int

const logKeyTLSOnPlain tlsLogKey = -1

// tlsLogKinds bounds the TLS log limiter's memory: more than the kinds there are.
const tlsLogKinds = 32

// newTLSLogLimiter lets one line of each kind through every interval.
func newTLSLogLimiter(interval time.Duration) *logLimiter[tlsLogKey] {
	return newLogLimiter[tlsLogKey](1, 0, interval, tlsLogKinds)
}
