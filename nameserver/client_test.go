package nameserver

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// testClient speaks the protocol directly, for tests that need control over
// every message (the locator package is the real client; nameserver does
// not import it).
type testClient struct {
	t     testing.TB
	c     net.Conn
	br    *bufio.Reader
	codec wire.Codec
	key   []byte
	seq   uint16
}

func dialTest(t testing.TB, s *Server, serializer string) *testClient {
	t.Helper()
	codec, ok := wire.CodecByName(serializer)
	if !ok {
		t.Fatalf("no codec %s", serializer)
	}
	network, addr := "tcp", s.InternalURI().Location()
	if u := s.InternalURI(); u.Sockname != "" {
		network, addr = "unix", u.Sockname
	}
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &testClient{t: t, c: c, br: bufio.NewReader(c), codec: codec}
}

func (tc *testClient) send(m *wire.Message) {
	tc.t.Helper()
	b, err := m.Pack(tc.key)
	if err != nil {
		tc.t.Fatal(err)
	}
	if _, err := tc.c.Write(b); err != nil {
		tc.t.Fatal(err)
	}
}

func (tc *testClient) recv() (*wire.Message, error) {
	m, err := wire.ReadMessage(tc.br, wire.Limits{HMACKey: tc.key})
	if err != nil {
		return m, err
	}
	return m, m.Decompress(0)
}

// handshake connects to object with FLAGS_META_ON_CONNECT and returns the
// reply.
func (tc *testClient) handshake(object string) *wire.Message {
	tc.t.Helper()
	d := wire.NewDict(2)
	d.Append("handshake", "hello")
	d.Append("object", object)
	data, err := tc.codec.Marshal(d)
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.send(&wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: tc.codec.ID(), Data: data})
	m, err := tc.recv()
	if err != nil {
		tc.t.Fatalf("handshake reply: %v", err)
	}
	return m
}

// connect handshakes and requires success.
func (tc *testClient) connect(object string) {
	tc.t.Helper()
	if m := tc.handshake(object); m.Type != wire.MsgConnectOK {
		v, _ := tc.codec.Unmarshal(m.Data)
		tc.t.Fatalf("handshake refused: type %d %v", m.Type, v)
	}
}

// invoke sends one call and returns the reply message.
func (tc *testClient) invoke(object, method string, flags uint16, args ...wire.Value) *wire.Message {
	tc.t.Helper()
	data, err := wire.MarshalCall(tc.codec, wire.Call{Object: object, Method: method, Args: args})
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.seq++
	tc.send(&wire.Message{Type: wire.MsgInvoke, Flags: flags, Seq: tc.seq, SerializerID: tc.codec.ID(), Data: data})
	if flags&wire.FlagOneway != 0 {
		return nil
	}
	m, err := tc.recv()
	if err != nil {
		tc.t.Fatalf("%s reply: %v", method, err)
	}
	if m.Seq != tc.seq {
		tc.t.Fatalf("%s reply seq %d, want %d", method, m.Seq, tc.seq)
	}
	return m
}

// call invokes and decodes the result; a Pyro4 exception becomes the error.
func (tc *testClient) call(object, method string, args ...wire.Value) (wire.Value, error) {
	tc.t.Helper()
	m := tc.invoke(object, method, 0, args...)
	v, err := tc.codec.Unmarshal(m.Data)
	if err != nil {
		tc.t.Fatalf("%s reply data: %v", method, err)
	}
	if m.Flags&wire.FlagException != 0 {
		x, ok := wire.ExceptionFromValue(v)
		if !ok {
			tc.t.Fatalf("%s: exception reply is not an exception: %v", method, v)
		}
		return nil, x
	}
	return v, nil
}
