package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// Reason classifies a failed TLS handshake.
type Reason int

const (
	ReasonOther              Reason = iota
	ReasonClientCertRequired        // the server wants a client certificate and got none
	ReasonClientCertRejected        // the server (or we, as server) refused the client certificate
	ReasonServerCertRejected        // the client refused the server certificate
	ReasonHostname                  // the host connected to is not named in the server certificate
	ReasonUnknownAuthority          // the peer certificate is not signed by a trusted CA
	ReasonCertExpired               // the peer certificate is expired or not yet valid
	ReasonNotTLS                    // the peer does not speak TLS
	ReasonPlainPyro                 // the peer speaks plain Pyro (no TLS)
	ReasonClosed                    // the peer closed the connection during the handshake
	ReasonTimeout                   // the handshake did not finish in time
)

// HandshakeError is a failed handshake said in terms a user can act on.
// Err is the error from crypto/tls, kept for errors.Is and errors.As.
type HandshakeError struct {
	Reason Reason
	Peer   string // the address of the other side
	Err    error
	msg    string
}

func (e *HandshakeError) Error() string { return e.msg + " (" + e.Err.Error() + ")" }
func (e *HandshakeError) Unwrap() error { return e.Err }

// TLS alert descriptions (RFC 8446 6.2) that identify a failure.
const (
	alertBadRecordMAC        = 20
	alertHandshakeFailure    = 40
	alertBadCertificate      = 42
	alertUnsupportedCert     = 43
	alertCertificateRevoked  = 44
	alertCertificateExpired  = 45
	alertCertificateUnknown  = 46
	alertUnknownCA           = 48
	alertCertificateRequired = 116
)

// remoteAlert is the alert the peer sent, if err is one.
func remoteAlert(err error) (uint8, bool) { return alertOf(err, "remote error") }

// alertOf finds the alert of a crypto/tls error: op is "remote error" for
// one the peer sent, "local error" for one we sent. crypto/tls keeps its
// alert type private; its text is that of the exported AlertError.
func alertOf(err error, opName string) (uint8, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != opName || op.Err == nil {
		return 0, false
	}
	for _, a := range []uint8{alertBadRecordMAC, alertHandshakeFailure, alertBadCertificate, alertUnsupportedCert,
		alertCertificateRevoked, alertCertificateExpired, alertCertificateUnknown, alertUnknownCA,
		alertCertificateRequired} {
		if op.Err.Error() == tls.AlertError(a).Error() {
			return a, true
		}
	}
	return 0, false
}

// ClientError explains an error of a client's handshake with server (or of
// its first read: under TLS 1.3 a server refuses a client certificate only
// after the client's handshake is done). sentCert says whether the client
// had a certificate to send. An error it does not recognise comes back
// unchanged; nil stays nil.
func ClientError(err error, server string, sentCert bool) error {
	if err == nil {
		return nil
	}
	r, msg := classifyClient(err, sentCert)
	if r == ReasonOther {
		return err
	}
	return &HandshakeError{Reason: r, Peer: server, Err: err, msg: fmt.Sprintf("TLS with %s: %s", server, msg)}
}

func classifyClient(err error, sentCert bool) (Reason, string) {
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	switch {
	case errors.As(err, &host):
		names := host.Certificate.DNSNames
		for _, ip := range host.Certificate.IPAddresses {
			names = append(names, ip.String())
		}
		if len(names) == 0 {
			return ReasonHostname, fmt.Sprintf("the server certificate names no host (no subject alternative names; a common name alone is not accepted), so it is not valid for %q", host.Host)
		}
		return ReasonHostname, fmt.Sprintf("the server certificate is not valid for %q: it names %s", host.Host, strings.Join(names, ", "))
	case errors.As(err, &unknown):
		return ReasonUnknownAuthority, "the server certificate is signed by an unknown authority; set SSL_CACERTS to the CA that signed it"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return ReasonCertExpired, "the server certificate is expired or not yet valid"
	case errors.As(err, &header):
		if strings.HasPrefix(string(header.RecordHeader[:]), "PYRO") {
			return ReasonPlainPyro, "the server answered in plain Pyro: it does not use SSL (unset PYRO_SSL here, or enable it there)"
		}
		return ReasonNotTLS, "the server does not speak TLS"
	}
	if a, ok := remoteAlert(err); ok {
		switch {
		case a == alertCertificateRequired && sentCert:
			// crypto/tls sends a certificate only when its issuer is among
			// the CAs the server names, so ours was not even offered.
			return ReasonClientCertRejected, "the server requires a client certificate signed by a CA in its SSL_CACERTS, and ours (SSL_CLIENTCERT) is not"
		case a == alertCertificateRequired, !sentCert && (a == alertHandshakeFailure || a == alertBadCertificate):
			return ReasonClientCertRequired, "the server requires a client certificate; set SSL_CLIENTCERT and SSL_CLIENTKEY"
		case a == alertHandshakeFailure:
			return ReasonOther, ""
		default:
			return ReasonClientCertRejected, "the server refused our client certificate (" + tls.AlertError(a).Error() + "); is it signed by a CA in the server's SSL_CACERTS?"
		}
	}
	return classifyTransport(err, "the server")
}

// ServerError explains an error of a server's handshake with the client at
// peer, for a log line. A plain Pyro client on a TLS port is recognised by
// its first bytes. An error it does not recognise comes back unchanged.
func ServerError(err error, peer string) error {
	if err == nil {
		return nil
	}
	r, msg := classifyServer(err)
	if r == ReasonOther {
		return err
	}
	return &HandshakeError{Reason: r, Peer: peer, Err: err, msg: fmt.Sprintf("TLS with client %s: %s", peer, msg)}
}

func classifyServer(err error) (Reason, string) {
	var header tls.RecordHeaderError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &header):
		if strings.HasPrefix(string(header.RecordHeader[:]), "PYRO") {
			return ReasonPlainPyro, "the client speaks plain Pyro, not TLS (set PYRO_SSL=1 for it)"
		}
		return ReasonNotTLS, "the client does not speak TLS"
	case errors.As(err, &unknown):
		return ReasonClientCertRejected, "the client certificate is not signed by a CA in SSL_CACERTS"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return ReasonCertExpired, "the client certificate is expired or not yet valid"
	case strings.Contains(err.Error(), "client didn't provide a certificate"):
		// crypto/tls has no typed error for this one.
		return ReasonClientCertRequired, "the client sent no certificate and SSL_REQUIRECLIENTCERT is on"
	}
	if a, ok := remoteAlert(err); ok && a != alertHandshakeFailure && a != alertCertificateRequired {
		return ReasonServerCertRejected, "the client refused the server certificate (" + tls.AlertError(a).Error() + "); does it trust the CA, and is the host it connects to named in the certificate?"
	}
	if a, ok := alertOf(err, "local error"); ok && a == alertBadRecordMAC {
		// Under TLS 1.3 OpenSSL sends the alert for a server certificate
		// it refuses before it switches to the handshake keys; we can only
		// see a record that does not decrypt.
		return ReasonServerCertRejected, "the client broke off the handshake with a record we cannot decrypt; OpenSSL clients (Python) do this when they refuse the server certificate: does the client trust the CA, and is the host it connects to named in the certificate?"
	}
	return classifyTransport(err, "the client")
}

func classifyTransport(err error, who string) (Reason, string) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return ReasonTimeout, "the TLS handshake timed out"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return ReasonClosed, who + " closed the connection during the TLS handshake (does it speak TLS? does it accept this side's certificate?)"
	}
	return ReasonOther, ""
}

// LooksLikeTLS reports whether the first bytes read from a plain
// connection are a TLS ClientHello (a handshake record of version 3.x),
// so that a plain server can say "a TLS client on a plain port" instead
// of "bad Pyro header".
func LooksLikeTLS(first []byte) bool {
	return len(first) >= 3 && first[0] == 0x16 && first[1] == 3 && first[2] <= 4
}
