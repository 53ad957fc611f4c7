package locator

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// DefaultSerializer is what a connection speaks when Options.Serializer is
// empty: Pyro4's default SERIALIZER.
const DefaultSerializer = wire.DefaultSerializer

// Options configure a connection.
type Options struct {
	// HMACKey signs every message and is required on every reply; empty
	// means no HMAC, as with Pyro4's _pyroHmacKey = None.
	HMACKey []byte
	// Serializer is the name of the codec requests are sent with
	// ("serpent", "json", "marshal", "msgpack", "pickle"); empty means serpent.
	Serializer string
	// Timeout bounds each call (send and reply); 0 means no bound, as
	// Pyro4's COMMTIMEOUT 0.
	Timeout time.Duration
	// DialTimeout bounds connecting plus the handshake; 0 means Timeout.
	DialTimeout time.Duration
	// MaxMessageSize bounds a reply (data plus annotations, and data after
	// decompression), as PYRO_MAX_MESSAGE_SIZE; 0 means no bound.
	MaxMessageSize int
	// Compression compresses requests when that makes them smaller, as
	// PYRO_COMPRESSION.
	Compression bool
	// TLS, when set, makes every connection TLS with this client
	// configuration (tlsconf.ClientConfig gives Pyro4's), as Pyro4's SSL.
	// The host checked against the server certificate is the URI's; over a
	// Unix socket it is TLS.ServerName, or "localhost" when that is empty.
	TLS *tls.Config
}

func (o Options) codec() (wire.Codec, error) {
	name := o.Serializer
	if name == "" {
		name = DefaultSerializer
	}
	c, ok := wire.CodecByName(name)
	if !ok {
		return nil, &wire.Exception{Class: wire.ClassSerializeError,
			Message: fmt.Sprintf("serializer %q is unknown or not available", name)}
	}
	return c, nil
}

func (o Options) limits() wire.Limits {
	return wire.Limits{MaxSize: o.MaxMessageSize, HMACKey: o.HMACKey}
}

// Metadata is what the server said about the object in the handshake:
// its exposed methods, which of them are oneway, and its exposed attributes.
type Metadata struct {
	Methods []string
	Oneway  []string
	Attrs   []string
}

// Conn is a connection to one Pyro object, the equivalent of a bound
// Pyro4 Proxy. It is safe for concurrent use; calls are serialized, one
// request and its reply at a time, as a Proxy does. After a communication
// failure the connection is closed and every further call fails with
// ConnectionClosedError: dial again to reconnect.
type Conn struct {
	uri   wire.URI
	opts  Options
	codec wire.Codec
	meta  Metadata

	mu     sync.Mutex
	nc     net.Conn
	r      *bufio.Reader
	seq    uint16
	broken error
}

// Dial connects to the object of a PYRO: URI (TCP host:port or a Unix
// socket ./u:path) and performs Pyro4's handshake: a MSG_CONNECT carrying
// {'handshake': 'hello', 'object': id} with FLAGS_META_ON_CONNECT, answered
// by CONNECTOK with the object's metadata or CONNECTFAIL with a reason.
func Dial(ctx context.Context, uri wire.URI, opts Options) (*Conn, error) {
	if uri.Protocol != "PYRO" {
		return nil, &wire.Exception{Class: wire.ClassPyroError,
			Message: fmt.Sprintf("cannot connect to %s: only PYRO: uris can be dialed, resolve it first", uri)}
	}
	codec, err := opts.codec()
	if err != nil {
		return nil, err
	}
	network, addr := "tcp", net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port))
	if uri.Sockname != "" {
		network, addr = "unix", uri.Sockname
	}
	dialTimeout := opts.DialTimeout
	if dialTimeout == 0 {
		dialTimeout = opts.Timeout
	}
	if dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dialTimeout)
		defer cancel()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, connectError(uri, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	nc = wrapTLS(nc, uri, opts.TLS)
	c := &Conn{uri: uri, opts: opts, codec: codec, nc: nc, r: bufio.NewReader(nc)}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	// a cancelled context must also interrupt the handshake's reads
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	err = c.handshake()
	if !stop() && err == nil {
		// the context ended as the handshake finished: the deadline may
		// already be in the past, so the connection is not usable
		err = connectError(uri, ctx.Err())
	}
	if err != nil {
		nc.Close()
		if ctx.Err() != nil && !isException(err) {
			return nil, connectError(uri, ctx.Err())
		}
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

func isException(err error) bool {
	var e *wire.Exception
	return errors.As(err, &e)
}

// connectError is the CommunicationError Pyro4's proxy raises when it
// cannot connect: "cannot connect to <location>: <reason>".
func connectError(uri wire.URI, err error) error {
	if e, ok := tlsConnectError(err); ok {
		return e
	}
	return &wire.Exception{Class: wire.ClassCommunicationError,
		Message: fmt.Sprintf("cannot connect to %s: %s", uri.Location(), netReason(err))}
}

// netReason shortens a Go network error to the part a user needs
// ("connection refused", "timed out").
func netReason(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection closed by the server"
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var e *wire.Exception
	if errors.As(err, &e) {
		return e.Text()
	}
	return err.Error()
}

func (c *Conn) handshake() error {
	if err := c.startTLS(); err != nil {
		return connectError(c.uri, err)
	}
	hs := wire.NewDict(2)
	hs.Append("handshake", "hello")
	hs.Append("object", c.uri.Object)
	data, err := c.codec.Marshal(hs)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	m := &wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect,
		Seq: c.seq, SerializerID: c.codec.ID(), Data: data}
	if c.opts.Compression {
		m.Compress()
	}
	if err := c.send(m); err != nil {
		return connectError(c.uri, c.tlsExchangeError(err))
	}
	reply, err := wire.ReadMessage(c.r, c.opts.limits())
	if err != nil {
		return connectError(c.uri, c.tlsExchangeError(err))
	}
	return c.handshakeReply(reply)
}

// handshakeReply interprets CONNECTOK or CONNECTFAIL. A CONNECTFAIL may be
// in a serializer other than ours: a daemon that refuses our serializer
// answers in marshal.
func (c *Conn) handshakeReply(reply *wire.Message) error {
	if reply.Type != wire.MsgConnectOK && reply.Type != wire.MsgConnectFail {
		return connectError(c.uri, fmt.Errorf("invalid msg type %d received", reply.Type))
	}
	var resp wire.Value = "?"
	if len(reply.Data) > 0 {
		if err := reply.Decompress(c.opts.MaxMessageSize); err != nil {
			return connectError(c.uri, err)
		}
		codec, ok := wire.CodecByID(reply.SerializerID)
		if !ok {
			return connectError(c.uri, fmt.Errorf("unsupported serializer id %d in handshake reply", reply.SerializerID))
		}
		v, err := codec.Unmarshal(reply.Data)
		if err != nil {
			return connectError(c.uri, err)
		}
		resp = v
	}
	if reply.Type == wire.MsgConnectFail {
		return &wire.Exception{Class: wire.ClassCommunicationError,
			Message: fmt.Sprintf("connection to %s rejected: %s", c.uri.Location(), pyStr(resp))}
	}
	if reply.Flags&wire.FlagMetaOnConnect == 0 {
		return nil
	}
	d, ok := resp.(*wire.Dict)
	if !ok {
		return &wire.Exception{Class: wire.ClassProtocolError,
			Message: "handshake reply with metadata is not a dict but " + wire.TypeName(resp)}
	}
	meta, _ := d.GetString("meta")
	return c.setMetadata(meta)
}

func (c *Conn) setMetadata(v wire.Value) error {
	d, ok := v.(*wire.Dict)
	if !ok || d.Len() == 0 {
		return nil // Pyro4 ignores empty metadata
	}
	get := func(k string) []string {
		x, _ := d.GetString(k)
		s, _ := wire.Strings(x)
		return s
	}
	c.meta = Metadata{Methods: get("methods"), Oneway: get("oneway"), Attrs: get("attrs")}
	if len(c.meta.Methods) == 0 && len(c.meta.Attrs) == 0 {
		return &wire.Exception{Class: wire.ClassPyroError,
			Message: "remote object doesn't expose any methods or attributes. Did you forget setting @expose on them?"}
	}
	return nil
}

// pyStr is Python's str() of a value: a str as is, anything else as repr.
func pyStr(v wire.Value) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return wire.Repr(v)
}

func (c *Conn) send(m *wire.Message) error {
	b, err := m.Pack(c.opts.HMACKey)
	if err != nil {
		return err
	}
	_, err = c.nc.Write(b)
	return err
}

// URI is the PYRO: URI this connection was dialed with.
func (c *Conn) URI() wire.URI { return c.uri }

// Metadata is the object's metadata from the handshake.
func (c *Conn) Metadata() Metadata { return c.meta }

// Serializer is the name of the codec the connection speaks.
func (c *Conn) Serializer() string { return c.codec.Name() }

// Close closes the connection. It is safe to call more than once.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken == nil {
		c.broken = &wire.Exception{Class: wire.ClassConnectionClosed, Message: "connection is closed"}
		return c.nc.Close()
	}
	return nil
}
