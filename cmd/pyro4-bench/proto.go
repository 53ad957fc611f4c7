package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// The load client sends pre-serialized calls rather than going through the
// locator package, whose proxy serializes each call anew.

// maxReply bounds a reply's body; a list of a million names fits.
const maxReply = 512 << 20

// dialer opens connections to one target, spreading them over the source
// addresses when there are several (each has its own ephemeral port range).
type dialer struct {
	addr    string
	src     []*net.TCPAddr
	timeout time.Duration
}

func newDialer(addr string, src []string, timeout time.Duration) *dialer {
	d := &dialer{addr: addr, timeout: timeout}
	for _, s := range src {
		d.src = append(d.src, &net.TCPAddr{IP: net.ParseIP(s)})
	}
	return d
}

func (d *dialer) dial(n int) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	if len(d.src) > 0 {
		nd.LocalAddr = d.src[n%len(d.src)]
	}
	c, err := nd.Dial("tcp", d.addr)
	if err != nil {
		return nil, err
	}
	c.(*net.TCPConn).SetNoDelay(true)
	return c, nil
}

// pconn is one protocol connection. Messages are packed and read by wire,
// the same code the server and the locator use, into buffers the
// connection reuses, so that the client's own cost per request is small and
// the same for every server, the echo floor included.
type pconn struct {
	c        net.Conn
	br       *bufio.Reader
	ser      uint16
	seq      uint16
	deadline time.Time
	out      []byte
	in       wire.Message
	buf      []byte
}

func newPconn(c net.Conn, ser uint16) *pconn {
	return &pconn{c: c, br: bufio.NewReaderSize(c, 4096), ser: ser, buf: make([]byte, 0, 4096)}
}

func (p *pconn) close() { p.c.Close() }

// setDeadline touches the socket only when the deadline changes, which for
// a persistent connection is once per run.
func (p *pconn) setDeadline(t time.Time) {
	if !t.Equal(p.deadline) {
		p.deadline = t
		p.c.SetDeadline(t)
	}
}

// roundTrip sends one message and reads the answer, checking that it is
// the answer to this message. The reply is valid until the next call.
func (p *pconn) roundTrip(typ, flags uint16, data []byte) (*wire.Message, error) {
	p.seq++
	m := wire.Message{Type: typ, Flags: flags, Seq: p.seq, SerializerID: p.ser, Data: data}
	out, err := m.AppendPack(p.out[:0], nil)
	if err != nil {
		return nil, err
	}
	p.out = out
	if _, err := p.c.Write(out); err != nil {
		return nil, err
	}
	r, err := p.read()
	if err != nil {
		return nil, err
	}
	if r.Seq != p.seq {
		return nil, protoErr("reply seq %d, want %d", r.Seq, p.seq)
	}
	return r, nil
}

func (p *pconn) read() (*wire.Message, error) {
	next, _, err := wire.ReadMessageInto(p.br, wire.Limits{MaxSize: maxReply}, &p.in, p.buf)
	p.buf = next
	if err != nil {
		// wire refuses a peer's bad bytes with a Pyro exception, as the
		// server would send it; here it is the peer's protocol error.
		var x *wire.Exception
		if errors.As(err, &x) {
			return nil, protoErr("%v", x)
		}
		return nil, err
	}
	// wire keeps only small bodies for reuse; a large reply (a list)
	// gets a buffer of its size here, so that the next one of that size
	// is read without an allocation.
	if n := bodySize(&p.in); n > cap(p.buf) {
		p.buf = make([]byte, 0, n)
	}
	return &p.in, nil
}

// bodySize is the message's data plus annotation chunks: the body buffer
// it needed.
func bodySize(m *wire.Message) int {
	n := len(m.Data)
	for _, a := range m.Annotations {
		n += 6 + len(a.Value)
	}
	return n
}

// handshakeData is the CONNECT payload a Pyro4 proxy sends with
// METADATA on: {'handshake': 'hello', 'object': id}.
func handshakeData(codec wire.Codec, object string) ([]byte, error) {
	d := wire.NewDict(2)
	d.Append("handshake", "hello")
	d.Append("object", object)
	return codec.Marshal(d)
}

// handshake runs the CONNECT exchange as a Pyro4 proxy does; the reply is
// not decoded unless it is a refusal.
func (p *pconn) handshake(data []byte) error {
	r, err := p.roundTrip(wire.MsgConnect, wire.FlagMetaOnConnect, data)
	if err != nil {
		return err
	}
	switch r.Type {
	case wire.MsgConnectOK:
		return nil
	case wire.MsgConnectFail:
		// Pyro4 refuses in marshal when it fails before reading the request.
		msg := "?"
		if c, ok := wire.CodecByID(r.SerializerID); ok {
			if v, err := c.Unmarshal(r.Data); err == nil {
				msg = fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					msg = string(b)
				}
			}
		}
		return &rejectedError{msg}
	}
	return protoErr("handshake answered with message type %d", r.Type)
}

// invoke sends a serialized call and returns the result data. A Pyro
// exception in the reply is a *remoteError; the connection stays usable.
func (p *pconn) invoke(data []byte, flags uint16, codec wire.Codec) ([]byte, error) {
	r, err := p.roundTrip(wire.MsgInvoke, flags, data)
	if err != nil {
		return nil, err
	}
	if r.Type != wire.MsgResult || r.SerializerID != p.ser {
		return nil, protoErr("reply type %d serializer %d, want %d and %d", r.Type, r.SerializerID, wire.MsgResult, p.ser)
	}
	if r.Flags&wire.FlagCompressed != 0 {
		return nil, protoErr("compressed reply (the load client asks for none)")
	}
	if r.Flags&wire.FlagException != 0 {
		return nil, remoteErrorOf(codec, r.Data)
	}
	return r.Data, nil
}

// ping is MSG_PING, which a daemon answers without deserializing anything.
func (p *pconn) ping() error {
	r, err := p.roundTrip(wire.MsgPing, 0, []byte("ping"))
	if err != nil {
		return err
	}
	if r.Type != wire.MsgPing {
		return protoErr("ping answered with message type %d", r.Type)
	}
	return nil
}

// rejectedError is a CONNECTFAIL: the server refused the handshake (a
// Pyro4 thread server whose pool is full says so this way).
type rejectedError struct{ msg string }

func (e *rejectedError) Error() string { return "connection rejected: " + e.msg }

// remoteError is an exception the server sent back.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return "remote exception: " + e.msg }

func remoteErrorOf(codec wire.Codec, data []byte) error {
	v, err := codec.Unmarshal(data)
	if err != nil {
		return &remoteError{fmt.Sprintf("undecodable (%v)", err)}
	}
	if x, ok := wire.ExceptionFromValue(v); ok {
		return &remoteError{x.Error()}
	}
	return &remoteError{fmt.Sprint(v)}
}

type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "protocol: " + e.msg }

func protoErr(format string, a ...any) error {
	return &protocolError{fmt.Sprintf(format, a...)}
}

// classify names the kind of a failed operation for the error counts.
func classify(err error) string {
	var (
		rej *rejectedError
		rem *remoteError
		pro *protocolError
		ne  net.Error
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.As(err, &rej):
		return "rejected"
	case errors.As(err, &rem):
		return "remote"
	case errors.As(err, &pro):
		return "protocol"
	case errors.As(err, new(*wrongError)):
		return "wrong"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no-port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "fd-limit"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return "closed"
	}
	return "other"
}
