package nameserver

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

func TestHandshake(t *testing.T) {
	requireCodecs(t, "serpent", "marshal")
	s := startServer(t, Options{NoBroadcast: true})
	tests := []struct {
		name     string
		object   string
		flags    uint16
		wantType uint16
		want     wire.Value
	}{
		{"meta", NameServerName, wire.FlagMetaOnConnect, wire.MsgConnectOK, nil},
		{"no meta", NameServerName, 0, wire.MsgConnectOK, "hello"},
		{"no meta unknown object", "nope", 0, wire.MsgConnectOK, "hello"},
		{"meta unknown object", "nope", wire.FlagMetaOnConnect, wire.MsgConnectFail, "unknown object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := dialTest(t, s, "serpent")
			d := wire.NewDict(2)
			d.Append("handshake", "hi")
			d.Append("object", tt.object)
			data, _ := tc.codec.Marshal(d)
			corr := bytes.Repeat([]byte{7}, 16)
			tc.send(&wire.Message{Type: wire.MsgConnect, Flags: tt.flags, Seq: 42, SerializerID: wire.SerpentID,
				Annotations: []wire.Annotation{{Key: "CORR", Value: corr}}, Data: data})
			m, err := tc.recv()
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != tt.wantType || m.Seq != 42 || m.SerializerID != wire.SerpentID {
				t.Fatalf("reply type %d seq %d ser %d", m.Type, m.Seq, m.SerializerID)
			}
			if got, _ := m.Annotation("CORR"); !bytes.Equal(got, corr) {
				t.Errorf("CORR not echoed: %x", got)
			}
			v, err := tc.codec.Unmarshal(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil {
				if !wire.Equal(v, tt.want) {
					t.Errorf("reply %v, want %v", wire.Repr(v), wire.Repr(tt.want))
				}
				return
			}
			if m.Flags&wire.FlagMetaOnConnect == 0 {
				t.Errorf("META flag not echoed")
			}
			want := "{'handshake': 'hello', 'meta': {'methods': ['count', 'list', 'lookup', 'ping', 'register', 'remove', 'set_metadata'], 'oneway': [], 'attrs': []}}"
			if got := wire.Repr(v); got != want {
				t.Errorf("reply %s\nwant %s", got, want)
			}
		})
	}
}

func TestHandshakeRefusals(t *testing.T) {
	requireCodecs(t, "serpent", "marshal", "json")
	s := startServer(t, Options{NoBroadcast: true, Accepted: wire.Accepted{wire.SerpentID: true}, HMACKey: []byte("k")})
	marshal, _ := wire.CodecByName("marshal")
	tests := []struct {
		name    string
		msg     wire.Message
		key     []byte
		wantSeq uint16
		want    string
	}{
		{"serializer not accepted", wire.Message{Type: wire.MsgConnect, Seq: 5, SerializerID: wire.JSONID, Data: []byte(`{}`)},
			[]byte("k"), 5, "message used serializer that is not accepted: 2"},
		{"wrong type", wire.Message{Type: wire.MsgInvoke, Seq: 5, SerializerID: wire.SerpentID}, []byte("k"), 0, "invalid msg type 4 received"},
		{"no hmac", wire.Message{Type: wire.MsgConnect, Seq: 5, SerializerID: wire.SerpentID}, nil, 0, "hmac key config not symmetric"},
		{"wrong hmac", wire.Message{Type: wire.MsgConnect, Seq: 5, SerializerID: wire.SerpentID}, []byte("x"), 0, "message hmac mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := dialTest(t, s, "serpent")
			tc.key = tt.key
			tc.send(&tt.msg)
			tc.key = []byte("k") // replies are signed with the server's key
			m, err := tc.recv()
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != wire.MsgConnectFail || m.Seq != tt.wantSeq || m.SerializerID != wire.MarshalID {
				t.Fatalf("reply type %d seq %d ser %d", m.Type, m.Seq, m.SerializerID)
			}
			v, err := marshal.Unmarshal(m.Data)
			if err != nil || v != tt.want {
				t.Errorf("reply %v (%v), want %q", v, err, tt.want)
			}
			if _, err := tc.recv(); err == nil {
				t.Errorf("connection not closed after a failed handshake")
			}
		})
	}
}

func TestPingAndUnknownObject(t *testing.T) {
	requireCodecs(t, "serpent")
	s := startServer(t, Options{NoBroadcast: true})
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	tc.send(&wire.Message{Type: wire.MsgPing, Seq: 9, SerializerID: wire.PickleID, Data: []byte("ignored")})
	m, err := tc.recv()
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != wire.MsgPing || m.Seq != 9 || m.SerializerID != wire.PickleID || string(m.Data) != "pong" {
		t.Errorf("ping reply %+v", m)
	}
	if corr, ok := m.Annotation("CORR"); !ok || len(corr) != 16 || corr[6]>>4 != 4 {
		t.Errorf("reply CORR %x is not a fresh uuid4", corr)
	}
	_, err = tc.call("no.such.object", "ping")
	var x *wire.Exception
	if !errors.As(err, &x) || x.Class != wire.ClassDaemonError || x.Text() != "unknown object" {
		t.Errorf("unknown object: %v", err)
	}
	if tb := x.Traceback(); len(tb) == 0 || !strings.HasPrefix(tb[0], "Traceback") {
		t.Errorf("traceback %q", tb)
	}
	// the connection survives the error
	if _, err := tc.call(NameServerName, "ping"); err != nil {
		t.Errorf("ping after error: %v", err)
	}
}

func TestRefusedSerializerClosesConnection(t *testing.T) {
	requireCodecs(t, "serpent", "json")
	s := startServer(t, Options{NoBroadcast: true, Accepted: wire.Accepted{wire.SerpentID: true}})
	json, _ := wire.CodecByName("json")
	data, _ := wire.MarshalCall(json, wire.Call{Object: NameServerName, Method: "ping"})

	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	tc.send(&wire.Message{Type: wire.MsgInvoke, Seq: 3, SerializerID: 99, Data: data})
	if _, err := tc.recv(); err == nil {
		t.Fatal("unknown serializer id answered")
	}

	tc = dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	tc.send(&wire.Message{Type: wire.MsgInvoke, Seq: 3, SerializerID: wire.JSONID, Data: data})
	m, err := tc.recv()
	if err != nil {
		t.Fatal(err)
	}
	// the error comes back in the refused serializer, as Pyro4 sends it
	v, _ := json.Unmarshal(m.Data)
	x, _ := wire.ExceptionFromValue(v)
	if m.Flags&wire.FlagException == 0 || m.SerializerID != wire.JSONID || x == nil ||
		x.Class != wire.ClassSerializeError || x.Text() != "message used serializer that is not accepted: 2" {
		t.Errorf("reply %v", wire.Repr(v))
	}
	if _, err := tc.recv(); err == nil {
		t.Error("connection stays open after a refused serializer")
	}
}

func TestOnewayAndBatch(t *testing.T) {
	requireCodecs(t, "serpent")
	s := startServer(t, Options{NoBroadcast: true})
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	tc.invoke(NameServerName, "register", wire.FlagOneway, "ow", "PYRO:x@h:1")
	tc.invoke(NameServerName, "lookup", wire.FlagOneway, "missing") // errors are not answered either
	if v, err := tc.call(NameServerName, "count"); err != nil || v != int64(2) {
		t.Fatalf("count after oneway register: %v %v", v, err)
	}
	calls := wire.List{
		wire.Tuple{"lookup", wire.Tuple{"ow"}, wire.NewDict(0)},
		wire.Tuple{"lookup", wire.Tuple{"missing"}, wire.NewDict(0)},
		wire.Tuple{"count", wire.Tuple{}, wire.NewDict(0)},
	}
	m := tc.invoke(NameServerName, "<batch>", wire.FlagBatch, calls...)
	if m.Flags&wire.FlagBatch == 0 || m.Flags&wire.FlagException != 0 {
		t.Errorf("batch reply flags %#x", m.Flags)
	}
	v, _ := tc.codec.Unmarshal(m.Data)
	want := "[{'__class__': 'Pyro4.core.URI', 'state': ('PYRO', 'x', None, 'h', 1)}, {'__class__': 'Pyro4.futures._ExceptionWrapper', 'exception': {'__class__': 'Pyro4.errors.NamingError', '__exception__': True, 'args': ('unknown name: missing',), 'attributes': {'_pyroTraceback': ['Traceback (most recent call last):\\n', '  File \"<pyro4 name server>\", in lookup\\n', 'Pyro4.errors.NamingError: unknown name: missing\\n']}}}]"
	if got := wire.Repr(v); got != want {
		t.Errorf("batch result\n got %s\nwant %s", got, want)
	}
}

func TestCompressedReply(t *testing.T) {
	requireCodecs(t, "serpent")
	s := startServer(t, Options{NoBroadcast: true, Compression: true})
	for i := range 30 {
		s.Registry().Register(persist.Entry{Name: strings.Repeat("n", 20) + string(rune('a'+i)), URI: "PYRO:obj@localhost:1"}, false)
	}
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	m := tc.invoke(NameServerName, "count", 0)
	if m.Flags&wire.FlagCompressed != 0 {
		t.Error("small reply compressed")
	}
	tc.seq++
	data, _ := wire.MarshalCall(tc.codec, wire.Call{Object: NameServerName, Method: "list"})
	tc.send(&wire.Message{Type: wire.MsgInvoke, Seq: tc.seq, SerializerID: wire.SerpentID, Data: data})
	raw, err := wire.ReadMessage(tc.br, wire.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if raw.Flags&wire.FlagCompressed == 0 {
		t.Fatal("large reply not compressed")
	}
	if err := raw.Decompress(0); err != nil {
		t.Fatal(err)
	}
	v, err := tc.codec.Unmarshal(raw.Data)
	if d, ok := v.(*wire.Dict); err != nil || !ok || d.Len() != 31 {
		t.Errorf("list reply %v %v", v, err)
	}
}

// garbageHeader is a message header with the given fields; sum < 0 means
// the right checksum.
func garbageHeader(typ, flags, seq uint16, size uint32, ser, ann uint16, sum int) []byte {
	b := []byte("PYRO")
	b = binary.BigEndian.AppendUint16(b, 48)
	for _, v := range []uint16{typ, flags, seq} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = binary.BigEndian.AppendUint32(b, size)
	b = binary.BigEndian.AppendUint16(b, ser)
	b = binary.BigEndian.AppendUint16(b, ann)
	b = binary.BigEndian.AppendUint16(b, 0)
	if sum < 0 {
		sum = int((uint32(typ) + 48 + size + uint32(ann) + uint32(ser) + uint32(flags) + uint32(seq) + 0x34E9) & 0xffff)
	}
	return binary.BigEndian.AppendUint16(b, uint16(sum))
}

// validConnect is a serpent CONNECT to the name server object.
func validConnect(t *testing.T) []byte {
	d := wire.NewDict(2)
	d.Append("handshake", "hello")
	d.Append("object", NameServerName)
	serpent, _ := wire.CodecByName("serpent")
	data, _ := serpent.Marshal(d)
	b, err := (&wire.Message{Type: wire.MsgConnect, SerializerID: wire.SerpentID, Data: data}).Pack(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zlibBomb is a valid zlib stream of mib MiB of zeros, about 1 KB per MiB:
// one sync-flushed deflate run of 1 MiB repeated (its matches reach back at
// most 32 KB, which is zeros in every repetition), a final empty block, and
// the Adler-32 of n zeros, which is (n mod 65521)<<16 | 1.
func zlibBomb(t *testing.T, mib int) []byte {
	var chunk bytes.Buffer
	fw, err := flate.NewWriter(&chunk, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	out := []byte{0x78, 0xda}
	for range mib {
		out = append(out, chunk.Bytes()...)
	}
	out = append(out, 0x01, 0x00, 0x00, 0xff, 0xff)
	return binary.BigEndian.AppendUint32(out, uint32((uint64(mib)<<20)%65521)<<16|1)
}

func TestZlibBombIsValid(t *testing.T) {
	b := zlibBomb(t, 3)
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil || n != 3<<20 {
		t.Fatalf("inflated %d bytes, %v; want %d", n, err, 3<<20)
	}
	if len(b) > 4<<10 {
		t.Errorf("3 MiB bomb is %d bytes", len(b))
	}
}

// TestGarbage sends what a broken or hostile peer might, to a server with
// a message size limit and to one without (the default); each connection
// must be closed (or answered) without disturbing the server, others are
// served meanwhile, and no claim or bomb makes it allocate what it claims.
func TestGarbage(t *testing.T) {
	requireCodecs(t, "serpent", "marshal")
	header := garbageHeader
	valid := validConnect(t)
	invoke := func(flags uint16, body []byte) []byte {
		return append(append(slices.Clone(valid), header(wire.MsgInvoke, flags, 1, uint32(len(body)), 1, 0, -1)...), body...)
	}
	tests := []struct {
		name  string
		data  []byte
		reply string // "": nothing; "fail": a CONNECTFAIL; else the class of an exception result
	}{
		{"junk", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "fail"},
		{"bad checksum", header(1, 0, 0, 0, 1, 0, 1234), "fail"},
		{"bad version", append([]byte("PYRO\x00\x2f"), make([]byte, 18)...), "fail"},
		{"2 GB claimed", header(1, 0, 0, 0x7fffffff, 1, 0, -1), ""},
		{"2 GB claimed after handshake", append(slices.Clone(valid), header(4, 0, 1, 0x7fffffff, 1, 0, -1)...), ""},
		{"size over 2 GB", header(1, 0, 0, 0xffffffff, 1, 0, -1), "fail"},
		{"half a header", []byte("PYRO\x00\x30\x00"), ""},
		{"half a body", append(header(1, 0, 0, 100, 1, 0, -1), []byte("{'handshake'")...), ""},
		{"truncated annotation", append(header(1, 0, 0, 0, 1, 4, -1), "CO\x00\x09"...), "fail"},
		{"bad call after handshake", invoke(0, []byte("(((")), wire.ClassSerializeError},
		{"huge annotation claim", append(header(1, 0, 0, 0, 1, 0xffff, -1), "CORR\xff\xff"...), ""},
		{"compressed junk", invoke(wire.FlagCompressed, []byte("zzzzz")), wire.ClassProtocolError},
		// 60 MiB from under 64 KB: within the limit on the wire, far over
		// it inflated.
		{"zlib bomb in a small message", invoke(wire.FlagCompressed, zlibBomb(t, 60)), wire.ClassMessageTooLargeError},
		{"zlib bomb in a handshake", append(header(1, wire.FlagCompressed, 0, uint32(len(zlibBomb(t, 60))), 1, 0, -1), zlibBomb(t, 60)...), "fail"},
	}
	for _, limit := range []int{1 << 16, 0} {
		t.Run(fmt.Sprintf("max message size %d", limit), func(t *testing.T) {
			s := startServer(t, Options{NoBroadcast: true, MaxMessageSize: limit, CommTimeout: time.Second})
			cases := slices.Clone(tests)
			if limit == 0 {
				// 1 GiB from 1 MB: only the inflation bound stops it.
				cases = append(cases, struct {
					name  string
					data  []byte
					reply string
				}{"zlib bomb of a GiB", invoke(wire.FlagCompressed, zlibBomb(t, 1024)), wire.ClassMessageTooLargeError})
			}
			for _, tt := range cases {
				t.Run(tt.name, func(t *testing.T) { sendGarbage(t, s, tt.data, tt.reply) })
			}
		})
	}
}

// garbageAllocBudget bounds what the server may allocate for one garbage
// connection: well under the 1-2 GB the claims and bombs ask for.
const garbageAllocBudget = 256 << 20

// sendGarbage sends data on a connection of its own, checks that another
// client is served while that connection is open, then ends the
// connection and checks the reply and the memory allocated meanwhile.
func sendGarbage(t *testing.T, s *Server, data []byte, reply string) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, err := net.Dial("tcp", s.InternalURI().Location())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}
	ping := func(when string) {
		tc := dialTest(t, s, "serpent")
		tc.connect(NameServerName)
		if _, err := tc.call(NameServerName, "ping"); err != nil {
			t.Fatalf("ping %s: %v", when, err)
		}
	}
	ping("while the connection is open")
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("connection not closed: %v", err)
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > garbageAllocBudget {
		t.Errorf("%d MB allocated for one garbage connection", d>>20)
	}
	var last *wire.Message
	for r := bytes.NewReader(got); r.Len() > 0; {
		if last, err = wire.ReadMessage(r, wire.Limits{}); err != nil {
			t.Fatalf("reply %q: %v", got, err)
		}
	}
	switch {
	case reply == "" && last != nil && last.Type != wire.MsgConnectOK:
		t.Errorf("unexpected reply type %d", last.Type)
	case reply == "fail" && (last == nil || last.Type != wire.MsgConnectFail):
		t.Errorf("want a CONNECTFAIL, got %q", got)
	case reply != "" && reply != "fail":
		serpent, _ := wire.CodecByName("serpent")
		var x *wire.Exception
		if last != nil {
			v, _ := serpent.Unmarshal(last.Data)
			x, _ = wire.ExceptionFromValue(v)
		}
		if last == nil || last.Flags&wire.FlagException == 0 || x == nil || x.Class != reply {
			t.Errorf("want a %s result, got %q", reply, got)
		}
	}
	ping("after the connection")
}

// TestSlowClientDoesNotBlockOthers holds a connection with half a message
// while another client is served.
func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	requireCodecs(t, "serpent")
	s := startServer(t, Options{NoBroadcast: true})
	slow := dialTest(t, s, "serpent")
	slow.connect(NameServerName)
	slow.c.Write([]byte("PYRO\x00\x30\x00\x04")) // and nothing more
	silent, err := net.Dial("tcp", s.InternalURI().Location())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	if v, err := tc.call(NameServerName, "count"); err != nil || v != int64(1) {
		t.Fatalf("count: %v %v", v, err)
	}
}

func TestCommTimeoutClosesIdleConnection(t *testing.T) {
	requireCodecs(t, "serpent")
	s := startServer(t, Options{NoBroadcast: true, CommTimeout: 200 * time.Millisecond})
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	start := time.Now()
	if _, err := tc.recv(); err == nil {
		t.Fatal("idle connection answered")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("idle connection closed after %v", d)
	}
}

func TestMaxMessageSize(t *testing.T) {
	requireCodecs(t, "serpent")
	s := startServer(t, Options{NoBroadcast: true, MaxMessageSize: 400})
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	if _, err := tc.call(NameServerName, "register", "short", "PYRO:x@h:1"); err != nil {
		t.Fatal(err)
	}
	// a request over the limit: the connection is dropped, as Pyro4 does
	data, _ := wire.MarshalCall(tc.codec, wire.Call{Object: NameServerName, Method: "register", Args: []wire.Value{strings.Repeat("n", 500), "PYRO:x@h:1"}})
	tc.send(&wire.Message{Type: wire.MsgInvoke, Seq: 9, SerializerID: wire.SerpentID, Data: data})
	if _, err := tc.recv(); err == nil {
		t.Error("oversized request answered")
	}
	// a reply over the limit: also dropped
	for i := range 20 {
		s.Registry().Register(persist.Entry{Name: "name" + strings.Repeat("x", i), URI: "PYRO:x@h:1"}, false)
	}
	tc = dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	data, _ = wire.MarshalCall(tc.codec, wire.Call{Object: NameServerName, Method: "list"})
	tc.send(&wire.Message{Type: wire.MsgInvoke, Seq: 10, SerializerID: wire.SerpentID, Data: data})
	if _, err := tc.recv(); err == nil {
		t.Error("oversized reply sent")
	}
}
