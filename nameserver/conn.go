package nameserver

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"time"

	"github.com/pyro4/pyro4/metrics"
	"github.com/pyro4/pyro4/wire"
)

// readBufferSize holds an ordinary request (a lookup is 100-200 bytes) in
// one read while keeping idle connections cheap; larger messages are read
// past the buffer by ReadMessage.
const readBufferSize = 1024

// maxKeptBuffer bounds the reply buffer a connection keeps between replies,
// so that one huge list result does not pin its memory for good.
const maxKeptBuffer = 1 << 20

// maxInflated bounds what a compressed message may inflate to when no
// MaxMessageSize is set. Pyro4 inflates without bound, so a few KB of zlib
// can make it allocate gigabytes; no name server call needs a fraction of
// this.
const maxInflated = 16 << 20

// inflateLimit is the largest a compressed message may inflate to.
func (s *Server) inflateLimit() int {
	if s.opts.MaxMessageSize > 0 {
		return s.opts.MaxMessageSize
	}
	return maxInflated
}

// conn is one client connection, served by one goroutine.
type conn struct {
	s    *Server
	c    net.Conn
	br   *bufio.Reader
	out  []byte
	in   []byte       // request body buffer, reused from request to request
	enc  []byte       // result encoding buffer, reused likewise
	msg  wire.Message // the request being served; aliases in
	corr [16]byte
	ann  [1]wire.Annotation
	peer string // the client's address, for the audit log
	log  *slog.Logger
	wdl  time.Time // the write deadline set last (armWrite)
}

// serve runs the handshake and then answers requests until the client goes
// away, sends something unacceptable, or the server closes. A panic (a bug)
// ends this connection only.
func (cn *conn) serve() {
	defer func() {
		if r := recover(); r != nil {
			cn.log.Error("panic serving connection; closed it", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if !cn.startTLS() || !cn.handshake() {
		return
	}
	for cn.request() {
	}
}

func (cn *conn) read() (*wire.Message, error) {
	if t := cn.s.opts.CommTimeout; t > 0 {
		cn.c.SetReadDeadline(time.Now().Add(t))
	}
	return wire.ReadMessage(cn.br, cn.s.limits())
}

// readRequest reads the next request into cn.msg and cn.in. The message is
// valid until the next readRequest; nothing decoded from it may keep
// references into it (the codecs copy strings and bytes out of the data).
func (cn *conn) readRequest() (*wire.Message, error) {
	if t := cn.s.opts.CommTimeout; t > 0 {
		cn.c.SetReadDeadline(time.Now().Add(t))
	}
	var err error
	cn.in, _, err = wire.ReadMessageInto(cn.br, cn.s.limits(), &cn.msg, cn.in)
	return &cn.msg, err
}

// setCorrelation makes the CORR annotation of the next reply: the request's
// own, or a fresh random (version 4) UUID, as a Pyro4 daemon does.
func (cn *conn) setCorrelation(m *wire.Message) {
	if m != nil {
		if v, ok := m.Annotation("CORR"); ok && len(v) == 16 {
			copy(cn.corr[:], v)
			return
		}
	}
	for i := 0; i < 16; i += 8 {
		u := rand.Uint64()
		for j := range 8 {
			cn.corr[i+j] = byte(u >> (8 * j))
		}
	}
	cn.corr[6] = cn.corr[6]&0x0f | 0x40
	cn.corr[8] = cn.corr[8]&0x3f | 0x80
}

// send writes one message with a single Write.
func (cn *conn) send(typ, flags, seq, serializer uint16, data []byte) error {
	cn.ann[0] = wire.Annotation{Key: "CORR", Value: cn.corr[:]}
	m := wire.Message{Type: typ, Flags: flags, Seq: seq, SerializerID: serializer, Annotations: cn.ann[:], Data: data}
	lim := cn.s.limits()
	if lim.MaxSize > 0 && len(data)+6+len(cn.corr) > lim.MaxSize {
		// Pyro4 cannot build such a reply either; it drops the connection.
		return &wire.Exception{Class: wire.ClassMessageTooLargeError,
			Message: fmt.Sprintf("max message size exceeded (%d where max=%d)", len(data)+6+len(cn.corr), lim.MaxSize)}
	}
	if len(data) > smallReply {
		return cn.writeLarge(&m, lim.HMACKey)
	}
	out, err := m.AppendPack(cn.out[:0], lim.HMACKey)
	if err != nil {
		return err
	}
	cn.armWrite(false)
	_, err = cn.c.Write(out)
	if cap(out) <= maxKeptBuffer {
		cn.out = out[:0]
	} else {
		cn.out = nil
	}
	return cn.writeFailed(err)
}

// sendPayload sends a CONNECTOK or result payload, compressed when the
// server is configured to compress (Pyro4's COMPRESSION).
func (cn *conn) sendPayload(typ, flags, seq, serializer uint16, data []byte) error {
	if cn.s.opts.Compression {
		m := wire.Message{Flags: flags, Data: data}
		m.Compress()
		flags, data = m.Flags, m.Data
	}
	return cn.send(typ, flags, seq, serializer, data)
}

// connectFail answers a handshake with MSG_CONNECTFAIL carrying the error
// text, serialized with serializer (Pyro4 uses marshal until it has
// accepted the client's serializer).
func (cn *conn) connectFail(seq, serializer uint16, text string) {
	codec, ok := wire.CodecByID(serializer)
	if !ok {
		return
	}
	data, err := codec.Marshal(text)
	if err != nil {
		return
	}
	if err := cn.send(wire.MsgConnectFail, 0, seq, serializer, data); err != nil {
		cn.log.Debug("sending handshake failure", "err", err)
	}
}

// isDisconnect reports errors that mean the peer went away or went quiet,
// after which nothing can be answered.
func isDisconnect(err error) bool {
	var x *wire.Exception
	return !errors.As(err, &x)
}

// handshake is Daemon._handshake: it returns whether the connection may
// proceed to requests.
func (cn *conn) handshake() bool {
	m, err := cn.read()
	if m != nil {
		// after Decompress, m.Data is what the message inflated to
		defer func() { cn.s.memRelease.after(len(m.Data)) }()
	}
	cn.setCorrelation(m)
	if m != nil && m.Type != wire.MsgConnect && !isTooLarge(err) {
		cn.securityEvent("handshake refused", fmt.Errorf("invalid msg type %d received", m.Type))
		cn.s.metrics.Error(metrics.ErrProtocol)
		cn.connectFail(0, wire.MarshalID, fmt.Sprintf("invalid msg type %d received", m.Type))
		return false
	}
	if err != nil {
		if isDisconnect(err) {
			cn.log.Debug("handshake failed", "err", err)
			return false
		}
		cn.countError(err)
		cn.securityEvent("handshake refused", err)
		if !isTooLarge(err) {
			cn.connectFail(0, wire.MarshalID, exceptionText(err))
		}
		return false
	}
	if !cn.s.accepted[m.SerializerID] {
		cn.s.metrics.Error(metrics.ErrSerializer)
		text := fmt.Sprintf("message used serializer that is not accepted: %d", m.SerializerID)
		cn.securityEvent("handshake refused", errors.New(text))
		cn.connectFail(m.Seq, wire.MarshalID, text)
		return false
	}
	codec, ok := wire.CodecByID(m.SerializerID)
	if !ok {
		cn.connectFail(m.Seq, wire.MarshalID, fmt.Sprintf("no serializer available for id %d", m.SerializerID))
		return false
	}
	data, flags, err := cn.handshakeReply(m, codec)
	if err != nil {
		cn.connectFail(m.Seq, m.SerializerID, exceptionText(err))
		return false
	}
	if err := cn.sendPayload(wire.MsgConnectOK, flags, m.Seq, m.SerializerID, data); err != nil {
		cn.log.Debug("sending handshake reply", "err", err)
		return false
	}
	return true
}

// handshakeKey identifies a CONNECTOK payload: it depends only on the
// serializer and, with FlagMetaOnConnect, on the object's (fixed) metadata.
type handshakeKey struct {
	serializer uint16
	object     string
	meta       bool
}

// handshakeReply decodes the client's {'handshake': ..., 'object': id} and
// returns the encoded CONNECTOK payload and its flags.
func (cn *conn) handshakeReply(m *wire.Message, codec wire.Codec) ([]byte, uint16, error) {
	req, flags, err := cn.handshakeResponse(m, codec)
	if err != nil {
		return nil, 0, err
	}
	key := handshakeKey{serializer: m.SerializerID, meta: flags&wire.FlagMetaOnConnect != 0}
	if key.meta {
		key.object = req.object
	}
	if b, ok := cn.s.handshakeReplies.Load(key); ok {
		return b.([]byte), flags, nil
	}
	v := wire.Value("hello") // Daemon.validateHandshake's answer
	if key.meta {
		meta, err := cn.s.objects.metadataFor(key.object, true)
		if err != nil {
			return nil, 0, err
		}
		d := wire.NewDict(2)
		d.Append("handshake", v)
		d.Append("meta", meta)
		v = d
	}
	data, err := codec.Marshal(v)
	if err != nil {
		return nil, 0, err
	}
	cn.s.handshakeReplies.Store(key, data)
	return data, flags, nil
}

// handshakeRequest is what a valid handshake asked for.
type handshakeRequest struct{ object string }

// handshakeResponse decodes and checks the client's handshake data in the
// order Pyro4 does; with FlagMetaOnConnect the object must be known.
func (cn *conn) handshakeResponse(m *wire.Message, codec wire.Codec) (handshakeRequest, uint16, error) {
	var none handshakeRequest
	if err := m.Decompress(cn.s.inflateLimit()); err != nil {
		return none, 0, err
	}
	// Pyro4 recreates classes in the handshake data too.
	v, err := wire.UnmarshalData(codec, m.Data)
	if err != nil {
		return none, 0, err
	}
	d, ok := plainDict(v)
	if !ok {
		return none, 0, typeError("'%s' object is not subscriptable", typeName(v))
	}
	if _, ok := d.GetString("handshake"); !ok {
		return none, 0, &wire.Exception{Class: wire.ClassKeyError, Message: "'handshake'"}
	}
	if m.Flags&wire.FlagMetaOnConnect == 0 {
		return none, 0, nil
	}
	id, ok := d.GetString("object")
	if !ok {
		return none, 0, &wire.Exception{Class: wire.ClassKeyError, Message: "'object'"}
	}
	if err := unhashableArg(id); err != nil {
		return none, 0, err
	}
	name, _ := id.(string)
	if cn.s.objects.get(name) == nil {
		return none, 0, wire.NewException(wire.ClassDaemonError, "unknown object")
	}
	return handshakeRequest{object: name}, wire.FlagMetaOnConnect, nil
}

func isTooLarge(err error) bool {
	var x *wire.Exception
	return errors.As(err, &x) && x.Class == wire.ClassMessageTooLargeError
}

// exceptionText is str(exception) for the CONNECTFAIL payload.
func exceptionText(err error) string {
	var x *wire.Exception
	if errors.As(err, &x) {
		return x.Text()
	}
	return err.Error()
}

// request reads and answers one request (Daemon.handleRequest). It returns
// false when the connection must be closed: the peer left, the message was
// unacceptable, or the error was one Pyro4 drops the connection for.
func (cn *conn) request() bool {
	m, err := cn.readRequest()
	defer cn.releaseLarge()
	if err != nil {
		if !isDisconnect(err) {
			cn.securityEvent("closing connection after bad message", err)
			cn.countError(err)
		}
		return false
	}
	if m.Type != wire.MsgInvoke && m.Type != wire.MsgPing {
		cn.securityEvent("closing connection after bad message", fmt.Errorf("invalid msg type %d received", m.Type))
		cn.s.metrics.Error(metrics.ErrProtocol)
		return false
	}
	cn.setCorrelation(m)
	if m.Type == wire.MsgPing {
		// same seq and serializer id, data ignored, nothing deserialized
		return cn.send(wire.MsgPing, 0, m.Seq, m.SerializerID, []byte("pong")) == nil
	}
	oneway := m.Flags&wire.FlagOneway != 0
	start := cn.clock()
	result, flags, where, err := cn.invoke(m)
	if err != nil {
		cn.logCallError(where, err)
		x := asException(err)
		cn.s.metrics.ObserveRequest(where, x.Class, cn.clock()-start)
		if where == "" && x.Class == wire.ClassSerializeError {
			cn.s.metrics.Error(metrics.ErrSerializer)
		}
		if !oneway {
			if serr := cn.sendException(m.Seq, m.SerializerID, x, where); serr != nil {
				return false
			}
		}
		// Pyro4 re-raises communication errors, which ends the connection.
		// A call that did not decode leaves the stream in step, though, and
		// Pyro4's own decoders raise plain ValueErrors there, so it stays.
		var de decodeError
		return errors.As(err, &de) || !isCommunicationError(x.Class)
	}
	if oneway {
		cn.s.metrics.ObserveRequest(where, "", cn.clock()-start)
		return true
	}
	data, err := cn.marshal(m.SerializerID, result)
	if err != nil {
		x := &wire.Exception{Class: wire.ClassSerializeError, Message: err.Error()}
		cn.s.metrics.ObserveRequest(where, x.Class, cn.clock()-start)
		cn.s.metrics.Error(metrics.ErrSerializer)
		return cn.sendException(m.Seq, m.SerializerID, x, "") == nil
	}
	cn.s.metrics.ObserveRequest(where, "", cn.clock()-start)
	if berr := cn.s.bounds.replies.acquire(len(data)); berr != nil {
		return cn.sendException(m.Seq, m.SerializerID, berr, where) == nil
	}
	err = cn.sendPayload(wire.MsgResult, flags, m.Seq, m.SerializerID, data)
	if held := cn.s.bounds.replies.release(len(data)); len(data) > smallReply {
		// Many replies of a few MiB pinned at once (clients that do not
		// read) are as large a message as one of their sum.
		cn.s.memRelease.after(int(held))
	}
	if err != nil {
		cn.log.Debug("closing connection", "err", err)
		return false
	}
	return true
}

// invoke decodes and runs an INVOKE message. where is the name of the
// method called, when it got that far: for the traceback and the metrics.
func (cn *conn) invoke(m *wire.Message) (result wire.Value, flags uint16, where string, err error) {
	if !cn.s.accepted[m.SerializerID] {
		return nil, 0, "", &wire.Exception{Class: wire.ClassSerializeError,
			Message: fmt.Sprintf("message used serializer that is not accepted: %d", m.SerializerID)}
	}
	codec, ok := wire.CodecByID(m.SerializerID)
	if !ok {
		return nil, 0, "", &wire.Exception{Class: wire.ClassSerializeError,
			Message: fmt.Sprintf("no serializer available for id %d", m.SerializerID)}
	}
	if err := m.Decompress(cn.s.inflateLimit()); err != nil {
		return nil, 0, "", err
	}
	call, err := wire.UnmarshalCall(codec, m.Data)
	if err != nil {
		return nil, 0, "", decodeError{asSerializeError(err)}
	}
	obj := cn.s.objects.get(call.Object)
	if obj == nil {
		return nil, 0, "", wire.NewException(wire.ClassDaemonError, "unknown object")
	}
	if m.Flags&wire.FlagBatch != 0 {
		res, err := obj.batch(cn.peer, call.Args)
		return res, wire.FlagBatch, "<batch>", err
	}
	switch call.Method {
	case "__getattr__", "__setattr__":
		return nil, 0, call.Method, obj.property(call.Args)
	}
	mt, err := obj.methodNamed(call.Method)
	if err != nil {
		return nil, 0, "", err
	}
	res, err := obj.call(cn.peer, mt, call.Args, call.Kwargs)
	return res, 0, mt.name, err
}

// marshal encodes a result, into the connection's reused buffer when the
// codec can append. The bytes are valid until the next marshal.
func (cn *conn) marshal(serializer uint16, v wire.Value) ([]byte, error) {
	codec, _ := wire.CodecByID(serializer)
	am, ok := codec.(wire.AppendMarshaler)
	if !ok {
		return codec.Marshal(v)
	}
	buf := cn.enc[:0]
	if n := sizeHint(v); n > cap(buf) {
		buf = make([]byte, 0, n)
	}
	data, err := am.AppendMarshal(buf, v)
	if err != nil {
		return nil, err
	}
	if cap(data) <= maxKeptBuffer {
		cn.enc = data[:0]
	} else {
		cn.enc = nil
	}
	return data, nil
}

// releaseLarge drops the connection's reference to a large request once it
// is answered and asks for its memory to be given back.
func (cn *conn) releaseLarge() {
	if n := len(cn.msg.Data); n >= releaseAbove {
		cn.msg.Data = nil
		cn.s.memRelease.after(n)
	}
}

// decodeError is a request whose framing was fine but whose call data did
// not decode.
type decodeError struct{ x *wire.Exception }

func (e decodeError) Error() string { return e.x.Error() }
func (e decodeError) Unwrap() error { return e.x }

func asSerializeError(err error) *wire.Exception {
	var x *wire.Exception
	if errors.As(err, &x) {
		return x
	}
	return &wire.Exception{Class: wire.ClassSerializeError, Message: err.Error()}
}

// asException turns any error into the Pyro4 exception the client receives.
func asException(err error) *wire.Exception {
	var x *wire.Exception
	if errors.As(err, &x) {
		return x
	}
	return &wire.Exception{Class: wire.ClassPyroError, Message: err.Error()}
}

// clock is the time since the server started, read only when there are
// metrics to record a call's duration in: time.Since on a time.Time with a
// monotonic reading reads one clock, where time.Now reads two.
func (cn *conn) clock() time.Duration {
	if cn.s.metrics == nil {
		return 0
	}
	return time.Since(cn.s.epoch)
}

// countError counts a message that could not be read, by its kind.
func (cn *conn) countError(err error) {
	if cn.s.metrics == nil {
		return
	}
	cn.s.metrics.Error(errorKind(err))
}

func errorKind(err error) metrics.ErrorKind {
	var x *wire.Exception
	if !errors.As(err, &x) {
		return metrics.ErrProtocol
	}
	switch x.Class {
	case wire.ClassSecurityError:
		return metrics.ErrHMAC
	case wire.ClassMessageTooLargeError:
		return metrics.ErrTooLarge
	case wire.ClassSerializeError:
		return metrics.ErrSerializer
	}
	return metrics.ErrProtocol
}

// isCommunicationError reports Pyro4's CommunicationError subclasses.
func isCommunicationError(class string) bool {
	switch class {
	case wire.ClassCommunicationError, wire.ClassConnectionClosed, wire.ClassTimeoutError,
		wire.ClassProtocolError, wire.ClassMessageTooLargeError, wire.ClassSerializeError:
		return true
	}
	return false
}

// sendException sends x as a FLAGS_EXCEPTION result with a traceback, in the
// request's serializer. where is the failing method's name when known.
func (cn *conn) sendException(seq, serializer uint16, x *wire.Exception, where string) error {
	codec, ok := wire.CodecByID(serializer)
	if !ok {
		return fmt.Errorf("no serializer available for id %d", serializer)
	}
	x = x.WithTraceback(traceback(where, x))
	data, err := codec.Marshal(x.Value())
	if err != nil {
		orig := x
		x = wire.NewException(wire.ClassPyroError, "Error serializing exception: %v. Original exception: <class '%s'>: %s",
			err, orig.Class, orig.Text()).WithTraceback(orig.Traceback())
		if data, err = codec.Marshal(x.Value()); err != nil {
			return err
		}
	}
	if err := cn.send(wire.MsgResult, wire.FlagException, seq, serializer, data); err != nil {
		cn.log.Debug("sending error reply", "err", err)
		return err
	}
	return nil
}

// traceback is the _pyroTraceback a Python daemon attaches: the standard
// traceback.format_exception layout, with this server's frame.
func traceback(method string, x *wire.Exception) []string {
	frame := "  File \"<pyro4 name server>\", in handleRequest\n"
	if method != "" {
		frame = fmt.Sprintf("  File \"<pyro4 name server>\", in %s\n", method)
	}
	return []string{"Traceback (most recent call last):\n", frame, exceptionLine(x)}
}

// exceptionLine is traceback.format_exception_only's line: builtins are
// unqualified, other classes carry their module.
func exceptionLine(x *wire.Exception) string {
	class := x.Class
	if len(class) > 9 && class[:9] == "builtins." {
		class = class[9:]
	}
	if t := x.Text(); t != "" {
		return class + ": " + t + "\n"
	}
	return class + "\n"
}
