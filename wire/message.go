package wire

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// ProtocolVersion is the Pyro4 wire protocol this package speaks.
const ProtocolVersion = 48

// HeaderSize is the size of the fixed message header.
const HeaderSize = 24

const checksumMagic = 0x34E9

// Message types.
const (
	MsgConnect     = 1
	MsgConnectOK   = 2
	MsgConnectFail = 3
	MsgInvoke      = 4
	MsgResult      = 5
	MsgPing        = 6
)

// Message flags.
const (
	FlagException        = 1 << 0
	FlagCompressed       = 1 << 1
	FlagOneway           = 1 << 2
	FlagBatch            = 1 << 3
	FlagMetaOnConnect    = 1 << 4
	FlagItemStreamResult = 1 << 5
	FlagKeepSerialized   = 1 << 6
)

// Annotation is one annotation chunk. Keys are exactly four ASCII bytes.
type Annotation struct {
	Key   string
	Value []byte
}

// Message is one Pyro4 protocol message. Data is the payload as sent: when
// FlagCompressed is set it is still compressed (see Decompress).
type Message struct {
	Type         uint16
	Flags        uint16
	Seq          uint16
	SerializerID uint16
	// Annotations in wire order. ReadMessage leaves the HMAC chunk out (it
	// verifies it instead) and Pack adds it when given a key.
	Annotations []Annotation
	Data        []byte
}

// Annotation returns the value of the annotation with the given key.
func (m *Message) Annotation(key string) ([]byte, bool) {
	for _, a := range m.Annotations {
		if a.Key == key {
			return a.Value, true
		}
	}
	return nil, false
}

// SetAnnotation stores v under key the way Pyro4's annotations dict does: an
// existing key keeps its position and gets the new value, a new key goes last.
func (m *Message) SetAnnotation(key string, v []byte) {
	for i := range m.Annotations {
		if m.Annotations[i].Key == key {
			m.Annotations[i].Value = v
			return
		}
	}
	m.Annotations = append(m.Annotations, Annotation{key, v})
}

// Errors a peer's bytes can cause. They are *Exception values so that the
// server can send them back in the form Pyro4 clients expect.
var (
	errHMACMismatch  = &Exception{Class: ClassSecurityError, Message: "message hmac mismatch"}
	errHMACAsymmetry = &Exception{Class: ClassSecurityError, Message: "hmac key config not symmetric"}
)

func protocolError(msg string) error { return &Exception{Class: ClassProtocolError, Message: msg} }

// Limits says what ReadMessage will accept.
type Limits struct {
	// MaxSize bounds data plus annotations, as PYRO_MAX_MESSAGE_SIZE does; 0 means no bound.
	MaxSize int
	// HMACKey, when set, is required on every message; when empty, a message
	// that carries an HMAC chunk is refused.
	HMACKey []byte
}

// Pack returns the message as bytes, signed with key when key is non-empty.
func (m *Message) Pack(key []byte) ([]byte, error) {
	return m.AppendPack(nil, key)
}

// AppendPack appends the packed message to dst. The annotation chunks are
// written in the order of m.Annotations, which is the insertion order of
// Pyro4's annotations dict; the HMAC chunk, when signing, comes last unless
// m.Annotations already holds an "HMAC" entry, whose place it then takes, as
// assigning to an existing dict key does in Python.
func (m *Message) AppendPack(dst []byte, key []byte) ([]byte, error) {
	dst, err := m.AppendHead(dst, key)
	if err != nil {
		return nil, err
	}
	return append(dst, m.Data...), nil
}

// AppendHead appends what AppendPack does but the data: the header and the
// annotation chunks, HMAC included. A large body can then be written after
// it from where it lies (net.Buffers) instead of being copied behind it.
func (m *Message) AppendHead(dst []byte, key []byte) ([]byte, error) {
	anns := m.Annotations
	if hasDuplicateKeys(anns) {
		anns = dedupe(anns)
	}
	var mac []byte
	if len(key) > 0 {
		mac = macOf(key, m.Data, anns)
	}
	annSize, macPending := 0, mac != nil
	for _, a := range anns {
		if err := checkKey(a.Key); err != nil {
			return nil, err
		}
		if len(a.Value) > 0xffff {
			return nil, protocolError(fmt.Sprintf("annotation %q too large", a.Key))
		}
		if a.Key == "HMAC" && mac != nil {
			annSize += 6 + len(mac)
			macPending = false
			continue
		}
		annSize += 6 + len(a.Value)
	}
	if macPending {
		annSize += 6 + len(mac)
	}
	if annSize > 0xffff {
		return nil, protocolError("annotations too large")
	}
	if len(m.Data) > 0x7fffffff {
		return nil, &Exception{Class: ClassMessageTooLargeError, Message: "invalid message size (outside range 0..2Gb)"}
	}
	h := header{m.Type, m.Flags, m.Seq, uint32(len(m.Data)), m.SerializerID, uint16(annSize)}
	dst = h.append(dst)
	for _, a := range anns {
		if a.Key == "HMAC" && mac != nil {
			dst = appendChunk(dst, a.Key, mac)
			continue
		}
		dst = appendChunk(dst, a.Key, a.Value)
	}
	if macPending {
		dst = appendChunk(dst, "HMAC", mac)
	}
	return dst, nil
}

// checkKey refuses what Pyro4 cannot encode: a key that is not four ASCII characters.
func checkKey(k string) error {
	if len(k) != 4 {
		return protocolError("annotation key must be of length 4")
	}
	for i := 0; i < 4; i++ {
		if k[i] >= 0x80 {
			return protocolError(fmt.Sprintf("annotation key %q is not ASCII", k))
		}
	}
	return nil
}

func hasDuplicateKeys(anns []Annotation) bool {
	for i := 1; i < len(anns); i++ {
		for j := 0; j < i; j++ {
			if anns[i].Key == anns[j].Key {
				return true
			}
		}
	}
	return false
}

// dedupe gives the annotations a Python dict built from them would hold:
// the first position of each key with the last value stored under it.
func dedupe(anns []Annotation) []Annotation {
	out := make([]Annotation, 0, len(anns))
outer:
	for _, a := range anns {
		for i := range out {
			if out[i].Key == a.Key {
				out[i].Value = a.Value
				continue outer
			}
		}
		out = append(out, a)
	}
	return out
}

func appendChunk(dst []byte, key string, v []byte) []byte {
	dst = append(dst, key...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(v)))
	return append(dst, v...)
}

// macOf is HMAC-SHA1 over the data and then every annotation value but
// HMAC's, in sorted key order, as Pyro4's Message.hmac computes it. Keys are
// distinct (a dict's), so the order is total.
func macOf(key, data []byte, anns []Annotation) []byte {
	h := hmac.New(sha1.New, key)
	h.Write(data)
	sorted := anns
	if !sort.SliceIsSorted(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key }) {
		sorted = append([]Annotation(nil), anns...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	}
	for _, a := range sorted {
		if a.Key != "HMAC" {
			h.Write(a.Value)
		}
	}
	return h.Sum(nil)
}

type header struct {
	typ, flags, seq uint16
	dataSize        uint32
	serializer      uint16
	annSize         uint16
}

func (h header) checksum() uint16 {
	return uint16((uint32(h.typ) + ProtocolVersion + h.dataSize + uint32(h.annSize) +
		uint32(h.serializer) + uint32(h.flags) + uint32(h.seq) + checksumMagic) & 0xffff)
}

func (h header) append(dst []byte) []byte {
	dst = append(dst, "PYRO"...)
	dst = binary.BigEndian.AppendUint16(dst, ProtocolVersion)
	dst = binary.BigEndian.AppendUint16(dst, h.typ)
	dst = binary.BigEndian.AppendUint16(dst, h.flags)
	dst = binary.BigEndian.AppendUint16(dst, h.seq)
	dst = binary.BigEndian.AppendUint32(dst, h.dataSize)
	dst = binary.BigEndian.AppendUint16(dst, h.serializer)
	dst = binary.BigEndian.AppendUint16(dst, h.annSize)
	dst = binary.BigEndian.AppendUint16(dst, 0)
	return binary.BigEndian.AppendUint16(dst, h.checksum())
}

// parseHeader checks in Pyro4's order: tag and version, then checksum. The
// reserved field is ignored, as Pyro4 ignores it. Pyro4 reads the size as a
// signed int and would then fail on a negative one; we refuse it here.
func parseHeader(b []byte) (header, error) {
	if len(b) != HeaderSize {
		return header{}, protocolError("header data size mismatch")
	}
	be := binary.BigEndian
	if string(b[:4]) != "PYRO" || be.Uint16(b[4:]) != ProtocolVersion {
		return header{}, protocolError("invalid data or unsupported protocol version")
	}
	h := header{be.Uint16(b[6:]), be.Uint16(b[8:]), be.Uint16(b[10:]), be.Uint32(b[12:]), be.Uint16(b[16:]), be.Uint16(b[18:])}
	if be.Uint16(b[22:]) != h.checksum() {
		return header{}, protocolError("header checksum mismatch")
	}
	if h.dataSize > 0x7fffffff {
		return header{}, protocolError("invalid message size (outside range 0..2Gb)")
	}
	return h, nil
}

// ReadMessage reads one message from r. A clean end of input before the first
// header byte is io.EOF; input that ends later is io.ErrUnexpectedEOF
// (wrapped). The size limit is checked from the header alone, before any
// buffer for the body exists, and without a limit the body buffer grows only
// as bytes arrive, so a peer merely claiming 2 GB costs nothing. A message
// whose header was valid but whose body is refused (size, annotations, HMAC)
// is still returned alongside the error, so the caller can answer with the
// right sequence number; on an I/O error the message is nil.
func ReadMessage(r io.Reader, lim Limits) (*Message, error) {
	m := new(Message)
	_, ok, err := readMessage(r, lim, m, nil)
	if !ok {
		return nil, err
	}
	return m, err
}

// ReadMessageInto is ReadMessage for a reader that serves one message after
// another: it fills the caller's m (reusing its Annotations slice) and reads
// the body into buf when it fits. It returns the buffer to pass next time,
// buf or a larger one. m.Data and the annotation values alias that buffer,
// so they are valid only until the next call; copy what must outlive it.
//
// valid reports whether m holds a message header after an error, in the
// cases where ReadMessage returns a message with its error.
func ReadMessageInto(r io.Reader, lim Limits, m *Message, buf []byte) (next []byte, valid bool, err error) {
	anns := m.Annotations[:0]
	*m = Message{Annotations: anns}
	return readMessage(r, lim, m, buf)
}

func readMessage(r io.Reader, lim Limits, m *Message, buf []byte) ([]byte, bool, error) {
	// The header is read into the front of buf, whose bytes the body
	// overwrites once the header is parsed: a header array of its own
	// would escape to the heap (io.ReadFull takes an interface) and cost
	// an allocation per message.
	hb := buf[:0]
	if cap(buf) < HeaderSize {
		hb = make([]byte, 0, HeaderSize)
	}
	hb = hb[:HeaderSize]
	if n, err := io.ReadFull(r, hb); err != nil {
		if n == 0 && err == io.EOF {
			return buf, false, io.EOF
		}
		return buf, false, fmt.Errorf("read message header: %w", err)
	}
	h, err := parseHeader(hb)
	if err != nil {
		return buf, false, err
	}
	m.Type, m.Flags, m.Seq, m.SerializerID = h.typ, h.flags, h.seq, h.serializer
	total := int(h.dataSize) + int(h.annSize)
	if lim.MaxSize > 0 && total > lim.MaxSize {
		return buf, true, &Exception{Class: ClassMessageTooLargeError,
			Message: fmt.Sprintf("max message size exceeded (%d where max=%d)", total, lim.MaxSize)}
	}
	var body []byte
	if total <= cap(buf) {
		body = buf[:total]
		_, err = io.ReadFull(r, body)
	} else {
		// hb is buf's memory, or a header buffer of its own: either way it
		// is free now and takes the first body bytes.
		body, err = readBody(r, total, hb)
		if err == nil && cap(body) <= maxReusedBody {
			buf = body
		}
	}
	if err != nil {
		// nothing can be answered on a stream that broke off
		return buf, false, fmt.Errorf("read message body: %w", noEOF(err))
	}
	mac, err := m.parseAnnotations(body[:h.annSize])
	if err != nil {
		return buf, true, err
	}
	m.Data = body[h.annSize:]
	switch {
	case mac != nil && len(lim.HMACKey) > 0:
		if !hmac.Equal(mac, macOf(lim.HMACKey, m.Data, m.Annotations)) {
			return buf, true, errHMACMismatch
		}
	case (mac != nil) != (len(lim.HMACKey) > 0):
		return buf, true, errHMACAsymmetry
	}
	return buf, true, nil
}

// maxReusedBody bounds the body buffer ReadMessageInto hands back for reuse,
// so that one huge message does not pin its memory for good: a larger
// buffer is garbage once its message is done, and the memory can go back to
// the operating system.
const maxReusedBody = 64 << 10

// A body larger than the caller's buffer is read into buffers that grow
// with the bytes actually received, never with the size the header claims:
// a peer that sends a header claiming 2 GB and then nothing has cost the
// header buffer and nothing more. The first growth step is firstBodyStep;
// each later one doubles. Once 1/trustShare of the claimed body has
// arrived, the buffer for the whole body is made and the rest read straight
// into it. Every buffer made along the way may stay resident until the
// collector and the scavenger see it, so what a body of n bytes costs at
// the peak is n plus the steps before the last, which is under
// 2 x (n/4) in all: 1.25 to 1.5 times n. The price is that a peer can make
// the server reserve trustShare times what it sent, in pages that are
// touched only as data arrives.
const (
	firstBodyStep = 4 << 10
	trustShare    = 8
)

// readBody reads an n-byte body from r, starting in first's memory (which
// may be used whatever it holds). The result aliases first only when first
// holds all n bytes.
func readBody(r io.Reader, n int, first []byte) ([]byte, error) {
	b := first[:0:min(cap(first), n)]
	for {
		if len(b) == cap(b) {
			b = growBody(b, n)
		}
		if cap(b) == n {
			_, err := io.ReadFull(r, b[len(b):n])
			if err != nil {
				return nil, err
			}
			return b[:n], nil
		}
		k, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+k]
		if err != nil {
			return nil, err
		}
	}
}

// growBody returns a larger buffer holding b's bytes, for a body of n.
func growBody(b []byte, n int) []byte {
	next := max(2*cap(b), firstBodyStep)
	if len(b) >= n/trustShare || next >= n {
		next = n
	}
	nb := make([]byte, len(b), next)
	copy(nb, b)
	return nb
}

// noEOF turns a clean EOF inside a message into an unexpected one: once a
// header was read, the peer owes us the rest.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseAnnotations fills m.Annotations as Pyro4 fills its annotations dict
// (a repeated key keeps its first position and takes the last value) and
// returns the HMAC chunk separately. A chunk whose length runs past the
// annotations section keeps the bytes that are there and ends the section,
// as Pyro4's slicing does; a chunk header cut short is refused (Pyro4's
// struct.unpack fails there).
func (m *Message) parseAnnotations(b []byte) (mac []byte, err error) {
	for len(b) > 0 {
		if len(b) < 6 {
			return nil, protocolError("truncated annotation chunk")
		}
		key, n := annotationKey(b[:4]), int(binary.BigEndian.Uint16(b[4:]))
		n = min(n, len(b)-6)
		if err := checkKey(key); err != nil {
			return nil, err
		}
		v := b[6 : 6+n : 6+n]
		if key == "HMAC" {
			mac = v
		} else {
			m.SetAnnotation(key, v)
		}
		b = b[6+n:]
	}
	return mac, nil
}

// annotationKey is string(b) without an allocation for the key every
// request carries.
func annotationKey(b []byte) string {
	if string(b) == "CORR" {
		return "CORR"
	}
	return string(b)
}

// Unpack parses one whole message held in b.
func Unpack(b []byte, lim Limits) (*Message, error) {
	r := bytes.NewReader(b)
	m, err := ReadMessage(r, lim)
	if err == nil && r.Len() != 0 {
		return m, &Exception{Class: ClassProtocolError, Message: "trailing bytes after message"}
	}
	return m, err
}

// Compress replaces Data with its zlib form and sets FlagCompressed, but only
// when that makes it smaller, as Pyro4's serializer does.
func (m *Message) Compress() {
	if m.Flags&FlagCompressed != 0 || len(m.Data) < 200 {
		return
	}
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(m.Data)
	w.Close()
	if buf.Len() < len(m.Data) {
		m.Data = buf.Bytes()
		m.Flags |= FlagCompressed
	}
}

// Decompress inflates Data when FlagCompressed is set, bounded by maxSize
// (0: unbounded) so that a small compressed body cannot expand without limit.
func (m *Message) Decompress(maxSize int) error {
	if m.Flags&FlagCompressed == 0 {
		return nil
	}
	data, err := inflate(m.Data, maxSize)
	if err != nil {
		return err
	}
	m.Data = data
	m.Flags &^= FlagCompressed
	return nil
}

// inflateFirst bounds the buffer a compressed body is first inflated into.
const inflateFirst = 256 << 10

// inflate returns the zlib data src inflated, refusing more than maxSize
// bytes (0: no bound). zlib does not record the inflated size, and a buffer
// grown by doubling would cost up to four times the result at the peak. So
// an output that does not fit a first, modest buffer is inflated twice:
// once to count its bytes (and to check the stream whole, so nothing is
// allocated for a stream that turns out bad or too large) and once into a
// buffer of exactly that size. A large result costs its size once plus the
// first buffer, at twice the CPU of one pass.
func inflate(src []byte, maxSize int) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, invalidCompressed(err)
	}
	defer zr.Close()
	first := min(max(4*len(src), 4<<10), inflateFirst)
	if maxSize > 0 {
		first = min(first, maxSize+1)
	}
	buf := make([]byte, first)
	n, err := readAll(zr, buf)
	switch {
	case err == io.EOF:
		return buf[:n], nil
	case err != nil:
		return nil, invalidCompressed(err)
	}
	total := n
	for err == nil {
		if maxSize > 0 && total > maxSize {
			return nil, &Exception{Class: ClassMessageTooLargeError,
				Message: fmt.Sprintf("max message size exceeded (decompressed data larger than %d)", maxSize)}
		}
		n, err = readAll(zr, buf)
		total += n
	}
	if err != io.EOF {
		return nil, invalidCompressed(err)
	}
	if err := zr.(zlib.Resetter).Reset(bytes.NewReader(src), nil); err != nil {
		return nil, invalidCompressed(err)
	}
	out := make([]byte, total)
	if n, err := readAll(zr, out); n != total || (err != nil && err != io.EOF) {
		return nil, invalidCompressed(fmt.Errorf("second pass gave %d of %d bytes: %v", n, total, err))
	}
	return out, nil
}

// readAll fills b from r. It returns io.EOF when the stream ended (b may
// not be full then), nil when b is full and the stream may go on, and any
// other error as is: unlike io.ReadFull it keeps a stream cut short (zlib's
// io.ErrUnexpectedEOF) apart from one that ended.
func readAll(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func invalidCompressed(err error) error {
	return &Exception{Class: ClassProtocolError, Message: "invalid compressed data: " + err.Error()}
}
