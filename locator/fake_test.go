package locator

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// fakeDaemon is a scripted Pyro4 daemon on loopback: it answers the
// handshake with hello (or what connect returns) and every invoke with what
// reply returns, so that tests can send what a real daemon never would.
type fakeDaemon struct {
	t       testing.TB
	l       net.Listener
	key     []byte
	connect func(m *wire.Message) *wire.Message // nil: CONNECTOK with meta
	reply   func(m *wire.Message, c wire.Call) *wire.Message
	got     chan *wire.Message // every message received, in order
}

// hangUp, returned by a script, makes the fake daemon close the connection.
var hangUp = &wire.Message{}

func serpent(t testing.TB) wire.Codec {
	t.Helper()
	c, ok := wire.CodecByName("serpent")
	if !ok {
		t.Fatal("serpent codec not registered")
	}
	return c
}

func startFake(t testing.TB, fd *fakeDaemon) wire.URI {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fd.t, fd.l = t, l
	fd.got = make(chan *wire.Message, 100)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go fd.serve(nc)
		}
	}()
	return wire.URI{Protocol: "PYRO", Object: "obj", Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}
}

func (fd *fakeDaemon) serve(nc net.Conn) {
	defer nc.Close()
	r := bufio.NewReader(nc)
	send := func(m *wire.Message) bool {
		if m == hangUp {
			return false
		}
		if m == nil {
			return true
		}
		b, err := m.Pack(fd.key)
		if err != nil {
			fd.t.Errorf("fake daemon pack: %v", err)
			return false
		}
		_, err = nc.Write(b)
		return err == nil
	}
	codec := serpent(fd.t)
	m, err := wire.ReadMessage(r, wire.Limits{HMACKey: fd.key})
	if err != nil {
		return
	}
	fd.record(m)
	var resp *wire.Message
	if fd.connect != nil {
		resp = fd.connect(m)
	} else {
		resp = connectOK(fd.t, codec, m.Seq, []string{"ping", "lookup"}, nil)
	}
	if !send(resp) {
		return
	}
	for {
		m, err := wire.ReadMessage(r, wire.Limits{HMACKey: fd.key})
		if err != nil {
			return
		}
		fd.record(m)
		call, err := wire.UnmarshalCall(codec, m.Data)
		if err != nil {
			fd.t.Errorf("fake daemon: bad call: %v", err)
			return
		}
		if !send(fd.reply(m, call)) {
			return
		}
	}
}

// record keeps a received message for the test to inspect; once the
// buffer is full (a benchmark never reads it) messages are dropped.
func (fd *fakeDaemon) record(m *wire.Message) {
	select {
	case fd.got <- m:
	default:
	}
}

func connectOK(t testing.TB, codec wire.Codec, seq uint16, methods, oneway []string) *wire.Message {
	meta := wire.NewDict(3)
	meta.Append("methods", wire.StrList(methods))
	meta.Append("oneway", wire.StrList(oneway))
	meta.Append("attrs", wire.List{})
	d := wire.NewDict(2)
	d.Append("handshake", "hello")
	d.Append("meta", meta)
	data, err := codec.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return &wire.Message{Type: wire.MsgConnectOK, Flags: wire.FlagMetaOnConnect, Seq: seq, SerializerID: codec.ID(), Data: data}
}

func result(t testing.TB, codec wire.Codec, req *wire.Message, v wire.Value, flags uint16) *wire.Message {
	data, err := codec.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &wire.Message{Type: wire.MsgResult, Flags: flags, Seq: req.Seq, SerializerID: codec.ID(), Data: data}
}

func dialFake(t testing.TB, uri wire.URI, opts Options) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), uri, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantException(t *testing.T, err error, class, textPart string) {
	t.Helper()
	var e *wire.Exception
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *wire.Exception", err, err)
	}
	if e.Class != class || !strings.Contains(e.Text(), textPart) {
		t.Fatalf("got %s %q, want %s containing %q", e.Class, e.Text(), class, textPart)
	}
}

func TestHandshakeMessage(t *testing.T) {
	fd := &fakeDaemon{}
	uri := startFake(t, fd)
	c := dialFake(t, uri, Options{})
	m := <-fd.got
	if m.Type != wire.MsgConnect || m.Flags != wire.FlagMetaOnConnect || m.Seq != 0 || m.SerializerID != wire.SerpentID {
		t.Fatalf("connect message: type %d flags %#x seq %d serializer %d", m.Type, m.Flags, m.Seq, m.SerializerID)
	}
	v, err := serpent(t).Unmarshal(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	want := wire.NewDict(2)
	want.Append("handshake", "hello")
	want.Append("object", "obj")
	if !wire.Equal(v, want) {
		t.Fatalf("handshake data %s, want %s", wire.Repr(v), wire.Repr(want))
	}
	if got := c.Metadata().Methods; strings.Join(got, ",") != "ping,lookup" {
		t.Fatalf("metadata methods %v", got)
	}
}

func TestHandshakeFailures(t *testing.T) {
	codec := serpent(t)
	tests := []struct {
		name    string
		connect func(m *wire.Message) *wire.Message
		class   string
		text    string
	}{
		{"connectfail", func(m *wire.Message) *wire.Message {
			data, _ := codec.Marshal("go away")
			return &wire.Message{Type: wire.MsgConnectFail, Seq: m.Seq, SerializerID: codec.ID(), Data: data}
		}, wire.ClassCommunicationError, "rejected: go away"},
		{"wrong type", func(m *wire.Message) *wire.Message {
			return &wire.Message{Type: wire.MsgResult, Seq: m.Seq, SerializerID: codec.ID()}
		}, wire.ClassCommunicationError, "invalid msg type 5 received"},
		{"nothing exposed", func(m *wire.Message) *wire.Message {
			return connectOK(t, codec, m.Seq, nil, nil)
		}, wire.ClassPyroError, "doesn't expose any methods"},
		{"unknown serializer", func(m *wire.Message) *wire.Message {
			return &wire.Message{Type: wire.MsgConnectOK, Seq: m.Seq, SerializerID: 99, Data: []byte("x")}
		}, wire.ClassCommunicationError, "unsupported serializer id 99"},
		{"closed", func(m *wire.Message) *wire.Message { return hangUp }, wire.ClassCommunicationError, "connection closed by the server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := startFake(t, &fakeDaemon{connect: tt.connect})
			_, err := Dial(context.Background(), uri, Options{DialTimeout: 5 * time.Second})
			wantException(t, err, tt.class, tt.text)
		})
	}
}

func TestDialRefusedAndTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	// a listener that never accepts completes the TCP handshake in the
	// kernel, so the Pyro handshake is what times out
	uri := wire.URI{Protocol: "PYRO", Object: "obj", Host: "127.0.0.1", Port: addr.Port}
	start := time.Now()
	_, err = Dial(context.Background(), uri, Options{DialTimeout: 200 * time.Millisecond})
	wantException(t, err, wire.ClassCommunicationError, "timed out")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("dial timeout took %v", d)
	}
	l.Close()
	_, err = Dial(context.Background(), uri, Options{})
	wantException(t, err, wire.ClassCommunicationError, "connection refused")

	_, err = Dial(context.Background(), wire.URI{Protocol: "PYRONAME", Object: "x"}, Options{})
	wantException(t, err, wire.ClassPyroError, "resolve it first")
	_, err = Dial(context.Background(), uri, Options{Serializer: "nope"})
	wantException(t, err, wire.ClassSerializeError, "nope")
}

func TestInvokeReplies(t *testing.T) {
	codec := serpent(t)
	big := strings.Repeat("x", 5000)
	tests := []struct {
		name  string
		reply func(m *wire.Message, c wire.Call) *wire.Message
		opts  Options
		want  wire.Value
		class string // expected exception class, "" for success
		text  string
		// usable says whether the connection still works afterwards
		usable bool
	}{
		{name: "ok", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			return result(t, codec, m, c.Method+":"+c.Args[0].(string), 0)
		}, want: "lookup:a", usable: true},
		{name: "compressed", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			r := result(t, codec, m, big, 0)
			r.Compress()
			if r.Flags&wire.FlagCompressed == 0 {
				t.Fatal("test reply did not compress")
			}
			return r
		}, want: big, usable: true},
		{name: "remote exception", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			e := &wire.Exception{Class: wire.ClassNamingError, Message: "unknown name: a"}
			return result(t, codec, m, e.WithTraceback([]string{"tb\n"}).Value(), wire.FlagException)
		}, class: wire.ClassNamingError, text: "unknown name: a", usable: true},
		{name: "sequence", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			r := result(t, codec, m, nil, 0)
			r.Seq += 7
			return r
		}, class: wire.ClassProtocolError, text: "reply sequence out of sync, got 8 expected 1"},
		{name: "serializer", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			r := result(t, codec, m, nil, 0)
			r.SerializerID = wire.JSONID
			return r
		}, class: wire.ClassSerializeError, text: "invalid serializer in response: 2"},
		{name: "type", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			r := result(t, codec, m, nil, 0)
			r.Type = wire.MsgConnectOK
			return r
		}, class: wire.ClassProtocolError, text: "invalid msg type 2 received"},
		{name: "stream", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			return result(t, codec, m, nil, wire.FlagItemStreamResult)
		}, class: wire.ClassProtocolError, text: "iterator"},
		{name: "exception flag without exception", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			return result(t, codec, m, int64(3), wire.FlagException)
		}, class: wire.ClassProtocolError, text: "does not hold an exception"},
		{name: "garbage", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			return &wire.Message{Type: wire.MsgResult, Seq: m.Seq, SerializerID: codec.ID(), Data: []byte("#\n((((")}
		}, class: wire.ClassSerializeError, text: "cannot decode reply"},
		{name: "too large", opts: Options{MaxMessageSize: 1000}, reply: func(m *wire.Message, c wire.Call) *wire.Message {
			r := result(t, codec, m, big, 0)
			r.Compress()
			return r
		}, class: wire.ClassMessageTooLargeError, text: "max message size exceeded"},
		{name: "connection dropped", reply: func(m *wire.Message, c wire.Call) *wire.Message {
			return hangUp
		}, class: wire.ClassConnectionClosed, text: "receiving: not enough data"},
		{name: "timeout", opts: Options{Timeout: 100 * time.Millisecond}, reply: func(m *wire.Message, c wire.Call) *wire.Message {
			return nil
		}, class: wire.ClassTimeoutError, text: "receiving: timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := startFake(t, &fakeDaemon{reply: tt.reply})
			c := dialFake(t, uri, tt.opts)
			v, err := c.Invoke("lookup", []wire.Value{"a"}, nil)
			if tt.class == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !wire.Equal(v, tt.want) {
					t.Fatalf("got %s", truncate(wire.Repr(v), 80))
				}
			} else {
				wantException(t, err, tt.class, tt.text)
			}
			_, err = c.Invoke("lookup", []wire.Value{"a"}, nil)
			if tt.usable {
				if tt.class == "" && err != nil {
					t.Fatalf("second call: %v", err)
				}
				if tt.class != "" {
					wantException(t, err, tt.class, tt.text)
				}
			} else {
				wantException(t, err, wire.ClassConnectionClosed, "earlier failure")
			}
		})
	}
}

func TestInvokeSequenceAndOneway(t *testing.T) {
	codec := serpent(t)
	fd := &fakeDaemon{
		connect: func(m *wire.Message) *wire.Message {
			return connectOK(t, codec, m.Seq, []string{"get", "fire"}, []string{"fire"})
		},
		reply: func(m *wire.Message, c wire.Call) *wire.Message {
			if c.Method == "fire" {
				return nil
			}
			return result(t, codec, m, int64(m.Seq), 0)
		},
	}
	uri := startFake(t, fd)
	c := dialFake(t, uri, Options{})
	<-fd.got // the handshake
	for want := int64(1); want <= 3; want++ {
		v, err := c.Invoke("get", nil, nil)
		if err != nil || v != want {
			t.Fatalf("call %d: %v %v", want, v, err)
		}
		if m := <-fd.got; m.Flags != 0 {
			t.Fatalf("flags %#x on a normal call", m.Flags)
		}
	}
	v, err := c.Invoke("fire", []wire.Value{int64(1)}, nil)
	if v != nil || err != nil {
		t.Fatalf("oneway call returned %v, %v", v, err)
	}
	if m := <-fd.got; m.Flags != wire.FlagOneway || m.Seq != 4 {
		t.Fatalf("oneway message flags %#x seq %d", m.Flags, m.Seq)
	}
	if v, err := c.Invoke("get", nil, nil); err != nil || v != int64(5) {
		t.Fatalf("call after oneway: %v %v", v, err)
	}
}

func TestInvokeHMAC(t *testing.T) {
	codec := serpent(t)
	echo := func(m *wire.Message, c wire.Call) *wire.Message { return result(t, codec, m, "ok", 0) }
	uri := startFake(t, &fakeDaemon{key: []byte("secret"), reply: echo})
	c := dialFake(t, uri, Options{HMACKey: []byte("secret")})
	if v, err := c.Invoke("ping", nil, nil); err != nil || v != "ok" {
		t.Fatalf("signed call: %v %v", v, err)
	}
	// the daemon's key differs: its signature on the handshake reply fails
	uri = startFake(t, &fakeDaemon{key: []byte("other"), connect: func(m *wire.Message) *wire.Message {
		return connectOK(t, codec, m.Seq, []string{"ping"}, nil)
	}, reply: echo})
	_, err := Dial(context.Background(), uri, Options{HMACKey: []byte("secret"), DialTimeout: time.Second})
	wantException(t, err, wire.ClassCommunicationError, "")
}

func TestInvokeBatch(t *testing.T) {
	codec := serpent(t)
	fd := &fakeDaemon{reply: func(m *wire.Message, c wire.Call) *wire.Message {
		if c.Method != "<batch>" || m.Flags&wire.FlagBatch == 0 {
			return result(t, codec, m, "not a batch", 0)
		}
		var out wire.List
		for _, a := range c.Args {
			call := a.(wire.Tuple)
			if call[0] == "fail" {
				exc := &wire.Exception{Class: wire.ClassNamingError, Message: "boom"}
				w := wire.NewDict(2)
				w.Append("__class__", wire.ExceptionWrapperClass)
				w.Append("exception", exc.Value())
				out = append(out, w)
				break
			}
			out = append(out, wire.Tuple{call[0], call[1], call[2]})
		}
		return result(t, codec, m, out, 0)
	}}
	uri := startFake(t, fd)
	c := dialFake(t, uri, Options{})
	kw := wire.NewDict(1)
	kw.Append("k", true)
	res, err := c.InvokeBatch([]BatchCall{{Method: "a", Args: []wire.Value{int64(1)}}, {Method: "b", Kwargs: kw}})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Value{wire.Tuple{"a", wire.Tuple{int64(1)}, wire.NewDict(0)}, wire.Tuple{"b", wire.Tuple{}, kw}}
	if len(res) != 2 || !wire.Equal(wire.List(res), wire.List(want)) {
		t.Fatalf("batch results %s", wire.Repr(wire.List(res)))
	}
	res, err = c.InvokeBatch([]BatchCall{{Method: "a"}, {Method: "fail"}, {Method: "c"}})
	wantException(t, err, wire.ClassNamingError, "boom")
	if len(res) != 1 {
		t.Fatalf("results before the failure: %d, want 1", len(res))
	}
}
