package wire

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// goldenMessage is one entry of testdata/golden/messages/manifest.json,
// written by gen_messages.py from Pyro4's own Message class.
type goldenMessage struct {
	Name          string      `json:"name"`
	Type          uint16      `json:"type"`
	Flags         uint16      `json:"flags"`
	Seq           uint16      `json:"seq"`
	Serializer    uint16      `json:"serializer"`
	Annotations   [][2]string `json:"annotations"`
	HMACKey       *string     `json:"hmac_key"`
	WireOrder     []string    `json:"wire_annotation_order"`
	DataHex       *string     `json:"data_hex"`
	DataLen       *int        `json:"data_len"`
	PayloadHex    *string     `json:"payload_hex"`
	raw, data, pl []byte
}

func (g *goldenMessage) key() []byte {
	if g.HMACKey == nil {
		return nil
	}
	return []byte(*g.HMACKey)
}

// pattern is gen_messages.py's filler for large payloads.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadGoldenMessages(t testing.TB) []*goldenMessage {
	t.Helper()
	dir := filepath.Join("testdata", "golden", "messages")
	js, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gs []*goldenMessage
	if err := json.Unmarshal(js, &gs); err != nil {
		t.Fatal(err)
	}
	if len(gs) < 40 {
		t.Fatalf("manifest has only %d messages", len(gs))
	}
	for _, g := range gs {
		if g.raw, err = os.ReadFile(filepath.Join(dir, g.Name+".bin")); err != nil {
			t.Fatal(err)
		}
		switch {
		case g.DataHex != nil:
			g.data = mustHex(t, *g.DataHex)
		case g.DataLen != nil:
			g.data = pattern(*g.DataLen)
		default:
			t.Fatalf("%s: no data in manifest", g.Name)
		}
		if g.PayloadHex != nil {
			g.pl = mustHex(t, *g.PayloadHex)
		}
	}
	return gs
}

// message builds what the Python script built, annotations in the order given.
func (g *goldenMessage) message(t testing.TB) *Message {
	m := &Message{Type: g.Type, Flags: g.Flags, Seq: g.Seq, SerializerID: g.Serializer, Data: g.data}
	for _, a := range g.Annotations {
		m.Annotations = append(m.Annotations, Annotation{a[0], mustHex(t, a[1])})
	}
	return m
}

// dictAnnotations is what Python's dict(annotations) holds, minus HMAC.
func (g *goldenMessage) dictAnnotations(t testing.TB) []Annotation {
	var out []Annotation
	for _, k := range g.WireOrder {
		if k == "HMAC" {
			continue
		}
		var v []byte
		for _, a := range g.Annotations {
			if a[0] == k {
				v = mustHex(t, a[1])
			}
		}
		out = append(out, Annotation{k, v})
	}
	return out
}

func TestPackMatchesPyro4(t *testing.T) {
	for _, g := range loadGoldenMessages(t) {
		t.Run(g.Name, func(t *testing.T) {
			got, err := g.message(t).Pack(g.key())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, g.raw) {
				t.Fatalf("packed bytes differ from Pyro4's\n got %x\nwant %x", head(got), head(g.raw))
			}
			pre := []byte("prefix")
			app, err := g.message(t).AppendPack(pre, g.key())
			if err != nil || !bytes.Equal(app[:6], pre) || !bytes.Equal(app[6:], g.raw) {
				t.Fatalf("AppendPack does not append the same bytes (err %v)", err)
			}
		})
	}
}

func head(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

func TestReadMessageReadsPyro4(t *testing.T) {
	for _, g := range loadGoldenMessages(t) {
		t.Run(g.Name, func(t *testing.T) {
			m, err := ReadMessage(bytes.NewReader(g.raw), Limits{HMACKey: g.key(), MaxSize: len(g.raw)})
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != g.Type || m.Flags != g.Flags || m.Seq != g.Seq || m.SerializerID != g.Serializer {
				t.Errorf("header fields %d/%d/%d/%d, want %d/%d/%d/%d", m.Type, m.Flags, m.Seq, m.SerializerID,
					g.Type, g.Flags, g.Seq, g.Serializer)
			}
			if !bytes.Equal(m.Data, g.data) {
				t.Errorf("data differs")
			}
			want := g.dictAnnotations(t)
			if fmt.Sprint(m.Annotations) != fmt.Sprint(want) {
				t.Errorf("annotations %q, want %q", m.Annotations, want)
			}
			if g.pl != nil {
				if err := m.Decompress(0); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(m.Data, g.pl) || m.Flags&FlagCompressed != 0 {
					t.Errorf("decompressed payload differs from Python's original (flags %#x)", m.Flags)
				}
			}
			// re-packing what was read gives Pyro4's bytes again, except that
			// an HMAC that Python placed first now goes last
			if g.Name != "hmac_in_place" {
				again, err := m.Pack(g.key())
				if g.pl == nil && (err != nil || !bytes.Equal(again, g.raw)) {
					t.Errorf("re-pack differs (err %v)", err)
				}
			}
		})
	}
}

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
		{"chunk runs past annotations", append(rawHeader(MsgInvoke, 0, 1, 0, 1, 8), "CORR\x00\x05ab"...),
			ClassProtocolError, "truncated annotation chunk", nil},
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
	m := &Message{Type: MsgResult, Seq: 1, SerializerID: 1, Data: pattern(3*bodyChunk + 17)}
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

func TestCompress(t *testing.T) {
	text := bytes.Repeat([]byte("PYRO:obj_0123456789@127.0.0.1:9999 "), 50)
	random := make([]byte, 1000)
	rand.Read(random)
	tests := []struct {
		name       string
		data       []byte
		compressed bool
	}{
		{"compressible", text, true},
		{"below 200 bytes", text[:199], false},
		{"incompressible", random, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{Data: bytes.Clone(tt.data)}
			m.Compress()
			if got := m.Flags&FlagCompressed != 0; got != tt.compressed {
				t.Fatalf("compressed = %v, want %v", got, tt.compressed)
			}
			if tt.compressed && len(m.Data) >= len(tt.data) {
				t.Fatalf("compressed data is not smaller")
			}
			if err := m.Decompress(len(tt.data)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Data, tt.data) || m.Flags != 0 {
				t.Fatalf("round trip changed the data or left flags %#x", m.Flags)
			}
		})
	}
	// compressing twice does nothing the second time
	m := &Message{Data: bytes.Clone(text)}
	m.Compress()
	once := bytes.Clone(m.Data)
	m.Compress()
	if !bytes.Equal(once, m.Data) {
		t.Fatal("second Compress changed compressed data")
	}
}

func TestDecompressBound(t *testing.T) {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(make([]byte, 10<<20))
	w.Close()
	bomb := buf.Bytes()
	m := &Message{Flags: FlagCompressed, Data: bomb}
	var err error
	if n := allocated(func() { err = m.Decompress(1 << 20) }); n > 8<<20 {
		t.Errorf("bounded decompression allocated %d bytes", n)
	}
	wantException(t, err, ClassMessageTooLargeError, "max message size exceeded (decompressed data larger than 1048576)")
	if !bytes.Equal(m.Data, bomb) || m.Flags != FlagCompressed {
		t.Fatal("failed Decompress changed the message")
	}
	if err := m.Decompress(10 << 20); err != nil || len(m.Data) != 10<<20 {
		t.Fatalf("exactly at the bound: %v", err)
	}
	m = &Message{Flags: FlagCompressed, Data: bomb}
	if err := m.Decompress(0); err != nil || len(m.Data) != 10<<20 {
		t.Fatalf("unbounded: %v", err)
	}
	for name, data := range map[string][]byte{"garbage": []byte("not zlib at all"), "truncated": bomb[:len(bomb)/2]} {
		err := (&Message{Flags: FlagCompressed, Data: data}).Decompress(0)
		var e *Exception
		if !errors.As(err, &e) || e.Class != ClassProtocolError || !strings.HasPrefix(e.Message, "invalid compressed data: ") {
			t.Errorf("%s: error %v, want ProtocolError invalid compressed data", name, err)
		}
	}
	plain := &Message{Data: []byte("x")}
	if err := plain.Decompress(1); err != nil || string(plain.Data) != "x" {
		t.Fatal("Decompress touched an uncompressed message")
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

func FuzzReadMessage(f *testing.F) {
	for _, g := range loadGoldenMessages(f) {
		if len(g.raw) < 4096 {
			f.Add(g.raw)
		}
	}
	f.Add(rawHeader(MsgInvoke, 0, 1, 0x7fffffff, 1, 0xffff))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkReadMessage(t, raw)
		// Random bytes rarely get past the tag and the checksum; a copy
		// with a valid tag, version and checksum reaches the annotations,
		// the body and the HMAC check.
		if len(raw) >= HeaderSize {
			fixed := bytes.Clone(raw)
			copy(fixed, "PYRO\x00\x30")
			h := header{be16(fixed[6:]), be16(fixed[8:]), be16(fixed[10:]), binary.BigEndian.Uint32(fixed[12:]),
				be16(fixed[16:]), be16(fixed[18:])}
			binary.BigEndian.PutUint16(fixed[22:], h.checksum())
			checkReadMessage(t, fixed)
		}
	})
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// checkReadMessage reads raw with and without an HMAC key, under a size
// limit: no panic, and whatever reads packs to a stable canonical form.
func checkReadMessage(t *testing.T, raw []byte) {
	for _, key := range [][]byte{nil, []byte("secret")} {
		lim := Limits{MaxSize: 64 << 10, HMACKey: key}
		m, err := ReadMessage(bytes.NewReader(raw), lim)
		if err != nil {
			continue
		}
		packed, err := m.Pack(key)
		if err != nil {
			t.Fatalf("a message that was read does not pack: %v", err)
		}
		m2, err := Unpack(packed, lim)
		if err != nil {
			t.Fatalf("re-packed message does not read: %v", err)
		}
		if again, _ := m2.Pack(key); !bytes.Equal(again, packed) {
			t.Fatalf("pack is not stable")
		}
		// input already in canonical form re-packs to the same bytes
		in := raw[:HeaderSize+int(be16(raw[18:]))+int(binary.BigEndian.Uint32(raw[12:]))]
		if canonical(in) && !bytes.Equal(packed, in) {
			t.Fatalf("canonical input re-packs differently\n in %x\nout %x", in, packed)
		}
	}
}

// canonical reports whether a packed message is in the form Pack writes:
// reserved field zero, distinct keys, the HMAC chunk (if any) last.
func canonical(raw []byte) bool {
	if binary.BigEndian.Uint16(raw[20:]) != 0 {
		return false
	}
	ann := raw[HeaderSize : HeaderSize+int(binary.BigEndian.Uint16(raw[18:]))]
	seen := map[string]bool{}
	for len(ann) > 0 {
		k, n := string(ann[:4]), int(binary.BigEndian.Uint16(ann[4:]))
		if seen[k] || seen["HMAC"] {
			return false
		}
		seen[k] = true
		ann = ann[6+n:]
	}
	return true
}

func BenchmarkMessagePack(b *testing.B) {
	for _, key := range []string{"", "secret"} {
		b.Run("hmac="+key, func(b *testing.B) {
			m := lookupMessage()
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = m.AppendPack(buf[:0], []byte(key))
			}
		})
	}
}

func BenchmarkReadMessage(b *testing.B) {
	for _, key := range []string{"", "secret"} {
		b.Run("hmac="+key, func(b *testing.B) {
			raw, _ := lookupMessage().Pack([]byte(key))
			lim := Limits{MaxSize: 1 << 20, HMACKey: []byte(key)}
			r := bytes.NewReader(raw)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				r.Reset(raw)
				if _, err := ReadMessage(r, lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// lookupMessage is a client's typical request: a serpent-encoded
// NameServer.lookup call with a correlation id.
func lookupMessage() *Message {
	return &Message{Type: MsgInvoke, Seq: 3, SerializerID: SerpentID,
		Annotations: []Annotation{{"CORR", []byte("\x9a\x1b\x0c\x7e\x11\x22\x43\x84\x95\xa6\xb7\xc8\xd9\xea\xfb\x0c")}},
		Data:        []byte("# serpent utf-8 python3.2\n('Pyro.NameServer','lookup',('example.greeting',),{})")}
}

// pyRecv is Pyro4's Message.recv reading messages from a file until it ends;
// it prints each message as JSON, or the error it raised.
const pyRecv = `
import json, sys
from Pyro4 import message, errors

class Conn:
    def __init__(self, data):
        self.data, self.pos = data, 0
    def recv(self, n):
        if self.pos + n > len(self.data):
            raise errors.ConnectionClosedError("receiving: not enough data")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

conn = Conn(open(sys.argv[1], "rb").read())
key = sys.argv[2].encode() or None
while conn.pos < len(conn.data):
    try:
        m = message.Message.recv(conn, hmac_key=key)
    except errors.PyroError as e:
        print(json.dumps({"error": type(e).__name__ + ": " + str(e)}))
        break
    flags = m.flags
    m.decompress_if_needed()
    print(json.dumps({"type": m.type, "flags": flags, "seq": m.seq, "ser": m.serializer_id,
                      "ann": [[k, v.hex()] for k, v in m.annotations.items() if k != "HMAC"],
                      "hmac": "HMAC" in m.annotations, "data": m.data.hex()}))
`

type pyMessage struct {
	Error string      `json:"error"`
	Type  uint16      `json:"type"`
	Flags uint16      `json:"flags"`
	Seq   uint16      `json:"seq"`
	Ser   uint16      `json:"ser"`
	Ann   [][2]string `json:"ann"`
	HMAC  bool        `json:"hmac"`
	Data  string      `json:"data"`
}

// pythonRecv feeds raw to Pyro4's Message.recv and returns what it read.
func pythonRecv(t *testing.T, raw []byte, key string) []pyMessage {
	t.Helper()
	path := filepath.Join(t.TempDir(), "messages.bin")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := pypeer.Run(t, 30*time.Second, pypeer.Env(), pyRecv, path, key)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var msgs []pyMessage
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m pyMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("python printed %q: %v", line, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func TestPythonReadsOurMessages(t *testing.T) {
	pypeer.Require(t)
	key := []byte("secret")
	big := bytes.Repeat([]byte("'example.object':'PYRO:obj@127.0.0.1:9999',"), 200)
	compressed := &Message{Type: MsgResult, Seq: 8, SerializerID: SerpentID, Data: bytes.Clone(big)}
	compressed.Compress()
	if compressed.Flags&FlagCompressed == 0 {
		t.Fatal("test payload did not compress")
	}
	msgs := []*Message{
		lookupMessage(),
		{Type: MsgConnect, Flags: FlagMetaOnConnect, SerializerID: SerpentID, Data: []byte("{'handshake':'hello','object':'Pyro.NameServer'}")},
		{Type: MsgPing, Seq: 0xffff, SerializerID: 42, Data: []byte("ping")},
		{Type: MsgInvoke, Seq: 4, SerializerID: JSONID, Data: []byte(`{"object":"x"}`),
			Annotations: []Annotation{{"ZZZZ", []byte("z")}, {"CORR", []byte("0123456789abcdef")}, {"AAAA", nil}}},
		compressed,
		{Type: MsgResult, Seq: 9, SerializerID: SerpentID, Data: pattern(70000)},
	}
	var raw []byte
	for _, m := range msgs {
		var err error
		if raw, err = m.AppendPack(raw, key); err != nil {
			t.Fatal(err)
		}
	}
	// chunks with a repeated key, signed over the values Pyro4's dict keeps
	chunks := appendChunk(nil, "XTRA", []byte("first"))
	chunks = appendChunk(chunks, "CORR", []byte("corr"))
	chunks = appendChunk(chunks, "XTRA", []byte("second"))
	mac := macOf(key, []byte("dup"), []Annotation{{"XTRA", []byte("second")}, {"CORR", []byte("corr")}})
	chunks = appendChunk(chunks, "HMAC", mac)
	raw = append(raw, rawHeader(MsgInvoke, 0, 10, 3, 1, uint16(len(chunks)))...)
	raw = append(append(raw, chunks...), "dup"...)

	got := pythonRecv(t, raw, string(key))
	if len(got) != len(msgs)+1 {
		t.Fatalf("python read %d messages, want %d: %+v", len(got), len(msgs)+1, got)
	}
	for i, m := range msgs {
		p := got[i]
		if p.Error != "" {
			t.Fatalf("message %d: python refused it: %s", i, p.Error)
		}
		want := m.Data
		if m.Flags&FlagCompressed != 0 {
			want = big
		}
		var anns [][2]string
		for _, a := range m.Annotations {
			anns = append(anns, [2]string{a.Key, hex.EncodeToString(a.Value)})
		}
		if p.Type != m.Type || p.Flags != m.Flags || p.Seq != m.Seq || p.Ser != m.SerializerID || !p.HMAC ||
			p.Data != hex.EncodeToString(want) || fmt.Sprint(p.Ann) != fmt.Sprint(anns) {
			t.Errorf("message %d: python read %+v", i, p)
		}
	}
	if dup := got[len(msgs)]; dup.Error != "" || dup.Data != hex.EncodeToString([]byte("dup")) {
		t.Errorf("repeated keys: python read %+v", dup)
	}

	// Python really checks our HMAC: the wrong key is refused
	wrong := pythonRecv(t, raw, "other")
	if len(wrong) != 1 || wrong[0].Error != "SecurityError: message hmac mismatch" {
		t.Errorf("wrong key: python read %+v", wrong)
	}
	unsigned, _ := lookupMessage().Pack(nil)
	if res := pythonRecv(t, unsigned, "secret"); len(res) != 1 || res[0].Error != "SecurityError: hmac key config not symmetric" {
		t.Errorf("unsigned with key: python read %+v", res)
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
