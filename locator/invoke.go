package locator

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// Invoke calls method on the remote object with positional args and keyword
// args (str keys; nil for none) and returns the result. A remote exception
// is returned as the *wire.Exception the server sent. A method the server
// declared oneway is sent without waiting for a reply and returns nil, nil.
func (c *Conn) Invoke(method string, args []wire.Value, kwargs *wire.Dict) (wire.Value, error) {
	var flags uint16
	if slices.Contains(c.meta.Oneway, method) {
		flags |= wire.FlagOneway
	}
	return c.call(wire.Call{Object: c.uri.Object, Method: method, Args: args, Kwargs: kwargs}, flags)
}

// BatchCall is one call of a batch.
type BatchCall struct {
	Method string
	Args   []wire.Value
	Kwargs *wire.Dict
}

// InvokeBatch sends the calls as one batch message (Pyro4's _pyroBatch) and
// returns their results in order. The server stops at the first call that
// raises: the results before it are returned together with its exception,
// so len(results) is the index of the failed call.
func (c *Conn) InvokeBatch(calls []BatchCall) ([]wire.Value, error) {
	list := make(wire.List, len(calls))
	for i, bc := range calls {
		kw := bc.Kwargs
		if kw == nil {
			kw = wire.NewDict(0) // the daemon applies it as **kwargs
		}
		args := wire.Tuple(bc.Args)
		if args == nil {
			args = wire.Tuple{}
		}
		list[i] = wire.Tuple{bc.Method, args, kw}
	}
	v, err := c.call(wire.Call{Object: c.uri.Object, Method: "<batch>", Args: list}, wire.FlagBatch)
	if err != nil {
		return nil, err
	}
	var items []wire.Value
	switch x := v.(type) {
	case wire.List:
		items = x
	case wire.Tuple:
		items = x
	default:
		return nil, &wire.Exception{Class: wire.ClassProtocolError,
			Message: "batch result is not a list but " + wire.TypeName(v)}
	}
	results := make([]wire.Value, 0, len(items))
	for _, it := range items {
		if e, ok := batchException(it); ok {
			return results, e
		}
		results = append(results, it)
	}
	return results, nil
}

func batchException(v wire.Value) (*wire.Exception, bool) {
	inner, ok := wire.UnwrapException(v)
	if !ok {
		return nil, false
	}
	if e, ok := wire.ExceptionFromValue(inner); ok {
		return e, true
	}
	return &wire.Exception{Class: wire.ClassPyroError, Message: "batch call failed: " + wire.Repr(inner)}, true
}

func (c *Conn) call(call wire.Call, flags uint16) (wire.Value, error) {
	data, err := wire.MarshalCall(c.codec, call)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", call.Method, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	c.seq++
	m := &wire.Message{Type: wire.MsgInvoke, Flags: flags, Seq: c.seq, SerializerID: c.codec.ID(), Data: data}
	if c.opts.Compression {
		m.Compress()
	}
	if c.opts.Timeout > 0 {
		c.nc.SetDeadline(time.Now().Add(c.opts.Timeout))
	}
	if err := c.send(m); err != nil {
		return nil, c.fail(err, "sending")
	}
	if flags&wire.FlagOneway != 0 {
		return nil, nil
	}
	reply, err := wire.ReadMessage(c.r, c.opts.limits())
	if err != nil {
		return nil, c.fail(err, "receiving")
	}
	v, err := decodeReply(reply, c.codec, c.seq, c.opts.MaxMessageSize)
	var remote *remoteError
	if errors.As(err, &remote) {
		return nil, remote.e
	}
	if err != nil {
		// the stream can no longer be trusted to be in step with us
		return nil, c.fail(err, "receiving")
	}
	return v, nil
}

// fail closes the connection after a communication or protocol failure, as
// Pyro4's proxy releases its connection, and returns the error in Pyro4's
// classes.
func (c *Conn) fail(err error, doing string) error {
	c.nc.Close()
	var e *wire.Exception
	var ne net.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &ne) && ne.Timeout():
		e = &wire.Exception{Class: wire.ClassTimeoutError, Message: doing + ": timeout"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// Pyro4's words when the peer closed before the message was whole
		e = &wire.Exception{Class: wire.ClassConnectionClosed, Message: doing + ": not enough data"}
	case errors.Is(err, net.ErrClosed):
		e = &wire.Exception{Class: wire.ClassConnectionClosed, Message: doing + ": connection lost"}
	default:
		e = &wire.Exception{Class: wire.ClassConnectionClosed, Message: doing + ": " + netReason(err)}
	}
	c.broken = &wire.Exception{Class: wire.ClassConnectionClosed,
		Message: "connection is closed after an earlier failure: " + e.Error()}
	return e
}

// remoteError carries an exception the server raised, which leaves the
// connection usable, apart from the failures that break it.
type remoteError struct{ e *wire.Exception }

func (r *remoteError) Error() string { return r.e.Error() }

// decodeReply checks a MSG_RESULT against the request (sequence number,
// serializer) and decodes its payload. A FLAGS_EXCEPTION reply is returned
// as a *remoteError.
func decodeReply(m *wire.Message, codec wire.Codec, seq uint16, maxSize int) (wire.Value, error) {
	if m.Type != wire.MsgResult {
		return nil, &wire.Exception{Class: wire.ClassProtocolError,
			Message: fmt.Sprintf("invalid msg type %d received", m.Type)}
	}
	if m.Seq != seq {
		return nil, &wire.Exception{Class: wire.ClassProtocolError,
			Message: fmt.Sprintf("invoke: reply sequence out of sync, got %d expected %d", m.Seq, seq)}
	}
	if m.SerializerID != codec.ID() {
		return nil, &wire.Exception{Class: wire.ClassSerializeError,
			Message: fmt.Sprintf("invalid serializer in response: %d", m.SerializerID)}
	}
	if m.Flags&wire.FlagItemStreamResult != 0 {
		return nil, &wire.Exception{Class: wire.ClassProtocolError,
			Message: "result of call is an iterator, which this client does not support"}
	}
	if err := m.Decompress(maxSize); err != nil {
		return nil, err
	}
	v, err := codec.Unmarshal(m.Data)
	if err != nil {
		return nil, &wire.Exception{Class: wire.ClassSerializeError, Message: "cannot decode reply: " + err.Error()}
	}
	if m.Flags&wire.FlagException != 0 {
		e, ok := wire.ExceptionFromValue(v)
		if !ok {
			return nil, &wire.Exception{Class: wire.ClassProtocolError,
				Message: "exception reply does not hold an exception but " + wire.TypeName(v)}
		}
		return nil, &remoteError{e}
	}
	return v, nil
}
