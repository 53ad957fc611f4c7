package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestUnpackTrailingBytes(t *testing.T) {
	raw, _ := (&Message{Type: MsgPing, Data: []byte("ping")}).Pack(nil)
	if _, err := Unpack(raw, Limits{}); err != nil {
		t.Fatal(err)
	}
	_, err := Unpack(append(raw, 0), Limits{})
	wantException(t, err, ClassProtocolError, "trailing bytes after message")
}

func wantException(t *testing.T, err error, class, msg string) {
	t.Helper()
	var e *Exception
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want %s", err, err, class)
	}
	if e.Class != class || e.Message != msg {
		t.Fatalf("error %s %q, want %s %q", e.Class, e.Message, class, msg)
	}
}

func TestReadMessageHMAC(t *testing.T) {
	m := &Message{Type: MsgInvoke, Seq: 77, SerializerID: SerpentID, Data: []byte("data"),
		Annotations: []Annotation{{"CORR", []byte("0123456789abcdef")}}}
	signed, _ := m.Pack([]byte("secret"))
	plain, _ := m.Pack(nil)
	tampered := bytes.Clone(signed)
	tampered[len(tampered)-1] ^= 1 // the data, not covered by the checksum
	tamperedAnn := bytes.Clone(signed)
	tamperedAnn[HeaderSize+6] ^= 1 // first byte of the CORR value
	tests := []struct {
		name string
		raw  []byte
		key  string
		msg  string // "" for success
	}{
		{"right key", signed, "secret", ""},
		{"wrong key", signed, "secreT", "message hmac mismatch"},
		{"tampered data", tampered, "secret", "message hmac mismatch"},
		{"tampered annotation", tamperedAnn, "secret", "message hmac mismatch"},
		{"hmac but no key", signed, "", "hmac key config not symmetric"},
		{"key but no hmac", plain, "secret", "hmac key config not symmetric"},
		{"neither", plain, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadMessage(bytes.NewReader(tt.raw), Limits{HMACKey: []byte(tt.key)})
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantException(t, err, ClassSecurityError, tt.msg)
			if got == nil || got.Seq != 77 {
				t.Fatalf("refused message not returned for the reply (got %+v)", got)
			}
		})
	}
}

// rawHeader builds a header with a correct checksum for any field values.
func rawHeader(typ, flags, seq uint16, dataSize uint32, ser, annSize uint16) []byte {
	return header{typ, flags, seq, dataSize, ser, annSize}.append(nil)
}

func TestReadMessageBadInput(t *testing.T) {
	good, _ := (&Message{Type: MsgInvoke, Seq: 3, SerializerID: 1, Data: []byte("hello"),
		Annotations: []Annotation{{"CORR", []byte("0123456789abcdef")}}}).Pack(nil)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name  string
		raw   []byte
		class string // Exception class, or "" for an io error
		msg   string
		ioErr error
	}{
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), ClassProtocolError,
			"invalid data or unsupported protocol version", nil},
		{"bad version", mod(func(b []byte) []byte { b[5] = 47; return b }), ClassProtocolError,
			"invalid data or unsupported protocol version", nil},
		{"checksum", mod(func(b []byte) []byte { b[23] ^= 1; return b }), ClassProtocolError,
			"header checksum mismatch", nil},
		{"field changed under checksum", mod(func(b []byte) []byte { b[11]++; return b }), ClassProtocolError,
			"header checksum mismatch", nil},
		{"negative size", rawHeader(MsgInvoke, 0, 1, 0x80000000, 1, 0), ClassProtocolError,
			"invalid message size (outside range 0..2Gb)", nil},
		{"chunk header cut", append(rawHeader(MsgInvoke, 0, 1, 0, 1, 4), "CORR"...),
			ClassProtocolError, "truncated annotation chunk", nil},
		{"non-ascii key", append(rawHeader(MsgInvoke, 0, 1, 0, 1, 6), "CO\xffR\x00\x00"...),
			ClassProtocolError, `annotation key "CO\xffR" is not ASCII`, nil},
		{"empty input", nil, "", "", io.EOF},
		{"half header", good[:10], "", "", io.ErrUnexpectedEOF},
		{"header only", good[:HeaderSize], "", "", io.ErrUnexpectedEOF},
		{"half annotations", good[:HeaderSize+8], "", "", io.ErrUnexpectedEOF},
		{"half body", good[:len(good)-2], "", "", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadMessage(bytes.NewReader(tt.raw), Limits{})
			if tt.ioErr != nil {
				if !errors.Is(err, tt.ioErr) || m != nil {
					t.Fatalf("error %v (message %v), want %v and no message", err, m, tt.ioErr)
				}
				if tt.ioErr == io.EOF && err != io.EOF {
					t.Fatalf("clean end of input is %v, want bare io.EOF", err)
				}
				return
			}
			wantException(t, err, tt.class, tt.msg)
		})
	}
}

func TestReadMessageOneByteReads(t *testing.T) {
	m := &Message{Type: MsgResult, Seq: 9, SerializerID: 1, Data: []byte("'result'"),
		Annotations: []Annotation{{"CORR", []byte("0123456789abcdef")}}}
	raw, _ := m.Pack([]byte("k"))
	got, err := ReadMessage(iotest.OneByteReader(bytes.NewReader(raw)), Limits{HMACKey: []byte("k")})
	if err != nil || string(got.Data) != "'result'" {
		t.Fatalf("got %v, %v", got, err)
	}
}

// overrunChunk is a message whose CORR chunk claims 5 bytes where the
// annotations section holds 2 of them.
func overrunChunk() []byte {
	raw := append(rawHeader(MsgInvoke, 0, 1, 2, 1, 8), "CORR\x00\x05ab"...)
	return append(raw, "xy"...)
}

func TestReadMessageAnnotationOverrun(t *testing.T) {
	// Pyro4 slices what is there and moves past the section's end
	m, err := ReadMessage(bytes.NewReader(overrunChunk()), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Annotation("CORR"); !ok || string(v) != "ab" || string(m.Data) != "xy" || len(m.Annotations) != 1 {
		t.Fatalf("annotations %q, data %q", m.Annotations, m.Data)
	}
}

func TestReadMessageDuplicateAnnotationKeys(t *testing.T) {
	// Pyro4 reads chunks into a dict: a repeated key keeps its first place
	// and the last value, and the HMAC covers the dict's values.
	chunks := appendChunk(nil, "XTRA", []byte("first"))
	chunks = appendChunk(chunks, "CORR", []byte("corr"))
	chunks = appendChunk(chunks, "XTRA", []byte("second"))
	raw := append(rawHeader(MsgInvoke, 0, 1, 4, 1, uint16(len(chunks))), chunks...)
	raw = append(raw, "data"...)
	m, err := ReadMessage(bytes.NewReader(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Annotation{{"XTRA", []byte("second")}, {"CORR", []byte("corr")}}
	if fmt.Sprint(m.Annotations) != fmt.Sprint(want) {
		t.Fatalf("annotations %q, want %q", m.Annotations, want)
	}
}

func TestSetAnnotation(t *testing.T) {
	var m Message
	m.SetAnnotation("CORR", []byte("a"))
	m.SetAnnotation("XTRA", []byte("b"))
	m.SetAnnotation("CORR", []byte("c"))
	if fmt.Sprint(m.Annotations) != fmt.Sprint([]Annotation{{"CORR", []byte("c")}, {"XTRA", []byte("b")}}) {
		t.Fatalf("annotations %q", m.Annotations)
	}
	if v, ok := m.Annotation("XTRA"); !ok || string(v) != "b" {
		t.Fatalf("Annotation(XTRA) = %q, %v", v, ok)
	}
	if _, ok := m.Annotation("NONE"); ok {
		t.Fatal("Annotation found a missing key")
	}
}

func TestPackErrors(t *testing.T) {
	tests := []struct {
		name  string
		anns  []Annotation
		class string
		msg   string
	}{
		{"short key", []Annotation{{"ABC", nil}}, ClassProtocolError, "annotation key must be of length 4"},
		{"long key", []Annotation{{"ABCDE", nil}}, ClassProtocolError, "annotation key must be of length 4"},
		{"non-ascii key", []Annotation{{"AB\u00e9", nil}}, ClassProtocolError, `annotation key "ABé" is not ASCII`},
		{"value too large", []Annotation{{"BIGV", make([]byte, 0x10000)}}, ClassProtocolError, `annotation "BIGV" too large`},
		{"total too large", []Annotation{{"AAAA", make([]byte, 0x8000)}, {"BBBB", make([]byte, 0x8000)}},
			ClassProtocolError, "annotations too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Message{Type: MsgInvoke, Annotations: tt.anns}).Pack(nil)
			wantException(t, err, tt.class, tt.msg)
		})
	}
}

func TestReadMessageSizeLimit(t *testing.T) {
	hdr := rawHeader(MsgInvoke, 0, 42, 0x7fffffff, 1, 0)
	m, err := ReadMessage(bytes.NewReader(hdr), Limits{MaxSize: 1 << 20})
	wantException(t, err, ClassMessageTooLargeError, "max message size exceeded (2147483647 where max=1048576)")
	if m == nil || m.Seq != 42 {
		t.Fatalf("refused message not returned: %+v", m)
	}
	// data plus annotations is what counts, as in Pyro4
	raw, _ := (&Message{Type: MsgInvoke, Data: make([]byte, 100), Annotations: []Annotation{{"CORR", make([]byte, 16)}}}).Pack(nil)
	if _, err := ReadMessage(bytes.NewReader(raw), Limits{MaxSize: 122}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	_, err = ReadMessage(bytes.NewReader(raw), Limits{MaxSize: 121})
	wantException(t, err, ClassMessageTooLargeError, "max message size exceeded (122 where max=121)")
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestReadMessageHugeClaimAllocatesNothing(t *testing.T) {
	hdr := rawHeader(MsgInvoke, 0, 1, 0x7fffffff, 1, 0xffff)
	// with a limit: refused from the header
	if n := allocated(func() { ReadMessage(bytes.NewReader(hdr), Limits{MaxSize: 1 << 20}) }); n > 64<<10 {
		t.Errorf("refusing a 2 GB claim allocated %d bytes", n)
	}
	// without a limit: the buffer grows only with the bytes that arrive
	var err error
	n := allocated(func() { _, err = ReadMessage(io.MultiReader(bytes.NewReader(hdr), strings.NewReader("abc")), Limits{}) })
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v, want unexpected EOF", err)
	}
	if n > 4<<20 {
		t.Errorf("a 2 GB claim followed by 3 bytes allocated %d bytes", n)
	}
	if a := testing.AllocsPerRun(20, func() { ReadMessage(bytes.NewReader(hdr), Limits{MaxSize: 1 << 20}) }); a > 8 {
		t.Errorf("refusing a 2 GB claim made %v allocations", a)
	}
}

func TestReadMessageLargeBody(t *testing.T) {
	// bigger than the up-front buffer, so the growing path is used
	m := &Message{Type: MsgResult, Seq: 1, SerializerID: 1, Data: pattern(3<<20 + 17)}
	raw, _ := m.Pack([]byte("k"))
	got, err := ReadMessage(bytes.NewReader(raw), Limits{HMACKey: []byte("k")})
	if err != nil || !bytes.Equal(got.Data, m.Data) {
		t.Fatalf("large body: err %v", err)
	}
	_, err = ReadMessage(bytes.NewReader(raw[:len(raw)-1]), Limits{HMACKey: []byte("k")})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut large body: %v", err)
	}
}

func TestChecksumWraps(t *testing.T) {
	// the sum is taken modulo 0x10000, over the full 32-bit data size
	h := header{typ: 5, seq: 1, serializer: 1, dataSize: 0x10000 - (5 + 48 + 1 + 1 + checksumMagic)}
	if h.checksum() != 0 {
		t.Fatalf("checksum %#x, want 0", h.checksum())
	}
	h.dataSize += 0x10000 * 3
	if h.checksum() != 0 {
		t.Fatalf("checksum with upper size bits %#x, want 0", h.checksum())
	}
	if binary.BigEndian.Uint16(h.append(nil)[22:]) != 0 {
		t.Fatal("header bytes carry a different checksum")
	}
}

func TestReadMessageIntoMatchesReadMessage(t *testing.T) {
	msgs := []Message{
		{Type: MsgInvoke, Seq: 1, SerializerID: SerpentID, Data: []byte("small"),
			Annotations: []Annotation{{"CORR", bytes.Repeat([]byte{7}, 16)}}},
		{Type: MsgInvoke, Seq: 2, SerializerID: JSONID, Data: bytes.Repeat([]byte("x"), 5000)},
		{Type: MsgPing, Seq: 3, Data: []byte("p"), Annotations: []Annotation{{"XTRA", []byte("v")}}},
		{Type: MsgInvoke, Seq: 4, Data: bytes.Repeat([]byte("y"), maxReusedBody+1)},
		{Type: MsgInvoke, Seq: 5},
	}
	var stream []byte
	for i := range msgs {
		b, err := msgs[i].Pack(nil)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, b...)
	}
	r := bytes.NewReader(stream)
	var m Message
	buf := make([]byte, 0, 64)
	for i, want := range msgs {
		var err error
		var valid bool
		buf, valid, err = ReadMessageInto(r, Limits{}, &m, buf)
		if err != nil || !valid {
			t.Fatalf("message %d: valid %v, err %v", i, valid, err)
		}
		if m.Type != want.Type || m.Seq != want.Seq || m.SerializerID != want.SerializerID ||
			!bytes.Equal(m.Data, want.Data) || len(m.Annotations) != len(want.Annotations) {
			t.Fatalf("message %d: got %+v", i, m)
		}
		for j, a := range want.Annotations {
			if m.Annotations[j].Key != a.Key || !bytes.Equal(m.Annotations[j].Value, a.Value) {
				t.Fatalf("message %d annotation %d: got %+v want %+v", i, j, m.Annotations[j], a)
			}
		}
		if cap(buf) > maxReusedBody {
			t.Fatalf("message %d: kept a %d byte buffer", i, cap(buf))
		}
	}
	if _, valid, err := ReadMessageInto(r, Limits{}, &m, buf); err != io.EOF || valid {
		t.Fatalf("at end: valid %v, err %v; want io.EOF", valid, err)
	}
}

func TestReadMessageIntoErrors(t *testing.T) {
	big, _ := (&Message{Type: MsgInvoke, Seq: 9, Data: make([]byte, 100)}).Pack(nil)
	var m Message
	_, valid, err := ReadMessageInto(bytes.NewReader(big), Limits{MaxSize: 50}, &m, nil)
	var x *Exception
	if !errors.As(err, &x) || x.Class != ClassMessageTooLargeError || !valid || m.Seq != 9 {
		t.Fatalf("too large: valid %v seq %d err %v", valid, m.Seq, err)
	}
	_, valid, err = ReadMessageInto(bytes.NewReader(big[:len(big)-1]), Limits{}, &m, make([]byte, 0, 200))
	if err == nil || valid || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated: valid %v err %v", valid, err)
	}
}

// A connection that reads request after request into one Message and one
// buffer allocates nothing per message: the server's read path.
func TestReadMessageIntoAllocatesNothing(t *testing.T) {
	req, err := (&Message{Type: MsgInvoke, Seq: 1, SerializerID: SerpentID, Data: []byte("call data"),
		Annotations: []Annotation{{"CORR", bytes.Repeat([]byte{7}, 16)}}}).Pack(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(req)
	var m Message
	buf := make([]byte, 0, 256)
	read := func() {
		r.Reset(req)
		var err error
		if buf, _, err = ReadMessageInto(r, Limits{}, &m, buf); err != nil || string(m.Data) != "call data" {
			t.Fatalf("read: %q, %v", m.Data, err)
		}
	}
	read() // the first message sizes the annotation slice
	if n := testing.AllocsPerRun(100, read); n != 0 {
		t.Errorf("%v allocations per message, want 0", n)
	}
}
