package msgpack

import (
	"bytes"
	"encoding/binary"
	"github.com/pyro4/pyro4/wire"
	"math"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// codec is Pyro4's MsgpackSerializer: msgpack.packb(use_bin_type=True)
// and unpackb(raw=False) with Pyro4's extension types.
//
// Encoding matches packb byte for byte: the smallest int format (unsigned
// ones for non-negative numbers), float64 always, str8 for short strings,
// tuples and sets as arrays. Ints beyond 64 bits are ExtType 0x31 holding the
// decimal digits, complex is ExtType 0x30 holding two little-endian doubles.
//
// Decoding gives List for arrays (Python's use_list=True), *Dict for maps,
// []byte for bin and string for str (which must be UTF-8). Map keys must be
// str or bin, as unpackb's default strict_map_key=True has it (Debian's
// python3-msgpack 1.0.3, which Pyro4 leaves at the default); a repeated key
// keeps its first position and last value, as Python's dict does. (Python
// names an ext key inside a call "ExtType", as Pyro4's loadsCall has no
// ext_hook; here it is named by its value's type.) Ext 0x30 and 0x31 decode to complex128 and
// int; Pyro4's 0x32 (datetime) and 0x33 (date) and msgpack's timestamp have
// no place in the value model and are refused with a SerializeError, as is
// any other ext code. Bytes after the value are an error, as in unpackb.
type codec struct{}

func init() { wire.Register(codec{}) }

func (codec) ID() uint16   { return wire.MsgpackID }
func (codec) Name() string { return "msgpack" }

// Pyro4's msgpack extension type codes.
const (
	extComplex  = 0x30
	extBigInt   = 0x31
	extDatetime = 0x32
	extDate     = 0x33
)

func (codec) Marshal(v wire.Value) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(256)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	if err := encodeValue(enc, v, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (codec) Unmarshal(data []byte) (v wire.Value, err error) {
	defer wire.RecoverPanic("msgpack", &err)
	return decode(data)
}

func encodeValue(e *msgpack.Encoder, v wire.Value, depth int) error {
	if depth > wire.MaxDepth {
		return wire.CodecError("msgpack", "value nested deeper than %d", wire.MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		return e.EncodeNil()
	case bool:
		return e.EncodeBool(x)
	case int64:
		return e.EncodeInt(x)
	case *big.Int:
		switch {
		case x.IsInt64():
			return e.EncodeInt(x.Int64())
		case x.IsUint64():
			return e.EncodeUint(x.Uint64())
		}
		digits := x.String()
		if err := e.EncodeExtHeader(extBigInt, len(digits)); err != nil {
			return err
		}
		_, err := e.Writer().Write([]byte(digits))
		return err
	case float64:
		return e.EncodeFloat64(x)
	case complex128:
		if err := e.EncodeExtHeader(extComplex, 16); err != nil {
			return err
		}
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(real(x)))
		binary.LittleEndian.PutUint64(b[8:], math.Float64bits(imag(x)))
		_, err := e.Writer().Write(b[:])
		return err
	case string:
		if !utf8.ValidString(x) {
			return wire.CodecError("msgpack", "str is not valid UTF-8")
		}
		return e.EncodeString(x)
	case []byte:
		if err := e.EncodeBytesLen(len(x)); err != nil {
			return err
		}
		_, err := e.Writer().Write(x)
		return err
	case wire.Tuple:
		return encodeArray(e, x, depth)
	case wire.List:
		return encodeArray(e, x, depth)
	case wire.Set:
		return encodeArray(e, x, depth)
	case *wire.Dict:
		if err := e.EncodeMapLen(x.Len()); err != nil {
			return err
		}
		for _, it := range x.Items {
			if err := encodeValue(e, it.Key, depth+1); err != nil {
				return err
			}
			if err := encodeValue(e, it.Value, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return wire.CodecError("msgpack", "cannot encode Go type %T", v)
}

func encodeArray(e *msgpack.Encoder, items []wire.Value, depth int) error {
	if err := e.EncodeArrayLen(len(items)); err != nil {
		return err
	}
	for _, it := range items {
		if err := encodeValue(e, it, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// reader drives the library's decoder over a bytes.Reader, which the
// decoder reads without buffering, so rd.Len() is what is left. Every length
// the payload claims is checked against that before anything is allocated.
type reader struct {
	data []byte
	rd   *bytes.Reader
	dec  *msgpack.Decoder
}

func decode(data []byte) (wire.Value, error) {
	rd := bytes.NewReader(data)
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(rd)
	r := reader{data: data, rd: rd, dec: dec}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	if rd.Len() != 0 {
		return nil, wire.CodecError("msgpack", "extra data after the value")
	}
	return v, nil
}

func (r *reader) wrap(err error) error {
	if _, ok := err.(*wire.Exception); ok {
		return err
	}
	return wire.CodecError("msgpack", "%v", err)
}

// claim checks that n items of at least size bytes each can still follow.
func (r *reader) claim(n, size int) error {
	if n < 0 || n > r.rd.Len()/size {
		return wire.CodecError("msgpack", "length %d exceeds the data", n)
	}
	return nil
}

func (r *reader) value(depth int) (wire.Value, error) {
	if depth > wire.MaxDepth {
		return nil, wire.CodecError("msgpack", "value nested deeper than %d", wire.MaxDepth)
	}
	c, err := r.dec.PeekCode()
	if err != nil {
		return nil, r.wrap(err)
	}
	var v wire.Value
	switch {
	case msgpcode.IsFixedNum(c), c >= msgpcode.Int8 && c <= msgpcode.Int64,
		c >= msgpcode.Uint8 && c <= msgpcode.Uint32:
		v, err = r.dec.DecodeInt64()
	case c == msgpcode.Uint64:
		var u uint64
		if u, err = r.dec.DecodeUint64(); err == nil {
			v = wire.Int(new(big.Int).SetUint64(u))
		}
	case c == msgpcode.Nil:
		err = r.dec.DecodeNil()
	case c == msgpcode.True || c == msgpcode.False:
		v, err = r.dec.DecodeBool()
	case c == msgpcode.Float:
		var f float32
		f, err = r.dec.DecodeFloat32()
		v = float64(f)
	case c == msgpcode.Double:
		v, err = r.dec.DecodeFloat64()
	case msgpcode.IsString(c):
		if err = r.claimRaw(c); err != nil {
			return nil, err
		}
		var s string
		if s, err = r.dec.DecodeString(); err == nil {
			if !utf8.ValidString(s) {
				return nil, wire.CodecError("msgpack", "str is not valid UTF-8")
			}
			v = s
		}
	case msgpcode.IsBin(c):
		if err = r.claimRaw(c); err != nil {
			return nil, err
		}
		var b []byte
		if b, err = r.dec.DecodeBytes(); err == nil {
			if b == nil {
				b = []byte{}
			}
			v = b
		}
	case msgpcode.IsFixedArray(c), c == msgpcode.Array16, c == msgpcode.Array32:
		return r.array(depth)
	case msgpcode.IsFixedMap(c), c == msgpcode.Map16, c == msgpcode.Map32:
		return r.dict(depth)
	case msgpcode.IsExt(c):
		return r.ext()
	default:
		return nil, wire.CodecError("msgpack", "invalid type code 0x%02x", c)
	}
	if err != nil {
		return nil, r.wrap(err)
	}
	return v, nil
}

// claimRaw checks the length of the str or bin at the current position
// before the library reads it: it allocates the claimed length up front.
func (r *reader) claimRaw(c byte) error {
	pos := len(r.data) - r.rd.Len()
	var size int
	switch c {
	case msgpcode.Str8, msgpcode.Bin8:
		size = 1
	case msgpcode.Str16, msgpcode.Bin16:
		size = 2
	case msgpcode.Str32, msgpcode.Bin32:
		size = 4
	default: // fixstr: the length is in the code
		return r.claim(int(c&msgpcode.FixedStrMask), 1)
	}
	if pos+1+size > len(r.data) {
		return wire.CodecError("msgpack", "truncated length")
	}
	var n uint64
	for _, b := range r.data[pos+1 : pos+1+size] {
		n = n<<8 | uint64(b)
	}
	if n > uint64(r.rd.Len()-1-size) {
		return wire.CodecError("msgpack", "length %d exceeds the data", n)
	}
	return nil
}

func (r *reader) array(depth int) (wire.Value, error) {
	n, err := r.dec.DecodeArrayLen()
	if err != nil {
		return nil, r.wrap(err)
	}
	if err := r.claim(n, 1); err != nil {
		return nil, err
	}
	out := make(wire.List, n)
	for i := range out {
		if out[i], err = r.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *reader) dict(depth int) (wire.Value, error) {
	n, err := r.dec.DecodeMapLen()
	if err != nil {
		return nil, r.wrap(err)
	}
	if err := r.claim(n, 2); err != nil {
		return nil, err
	}
	b := wire.NewDictBuilder(n)
	for i := 0; i < n; i++ {
		k, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		switch k.(type) {
		case string, []byte:
		default: // unpackb checks each key once its value is read
			return nil, wire.CodecError("msgpack", "%s is not allowed for map key when strict_map_key=True", wire.TypeName(k))
		}
		b.Put(k, v) // str and bytes are hashable
	}
	return b.Dict(), nil
}

func (r *reader) ext() (wire.Value, error) {
	id, n, err := r.dec.DecodeExtHeader()
	if err != nil {
		return nil, r.wrap(err)
	}
	if err := r.claim(n, 1); err != nil {
		return nil, err
	}
	data := make([]byte, n)
	if err := r.dec.ReadFull(data); err != nil {
		return nil, r.wrap(err)
	}
	switch id {
	case extComplex:
		if n != 16 {
			return nil, wire.CodecError("msgpack", "complex ext must hold 16 bytes, not %d", n)
		}
		return complex(math.Float64frombits(binary.LittleEndian.Uint64(data)),
			math.Float64frombits(binary.LittleEndian.Uint64(data[8:]))), nil
	case extBigInt:
		return parseExtInt(data)
	case extDatetime:
		return nil, wire.CodecError("msgpack", "datetime (ext 0x32) is not supported")
	case extDate:
		return nil, wire.CodecError("msgpack", "date (ext 0x33) is not supported")
	case -1:
		return nil, wire.CodecError("msgpack", "timestamp (ext -1) is not supported")
	}
	return nil, wire.CodecError("msgpack", "invalid ext code for msgpack: %d", id)
}

// parseExtInt reads ext 0x31 as Python's int(bytes) does: surrounding
// whitespace, a sign, and underscores between digits are allowed.
func parseExtInt(data []byte) (wire.Value, error) {
	s := strings.TrimSpace(string(data))
	digits := strings.TrimLeft(s, "+-")
	bad := len(s)-len(digits) > 1 || digits == "" || strings.HasPrefix(digits, "_") ||
		strings.HasSuffix(digits, "_") || strings.Contains(digits, "__")
	clean := strings.ReplaceAll(s, "_", "")
	if bad || len(clean) > wire.MaxIntDigits+1 {
		return nil, wire.CodecError("msgpack", "invalid int ext %q", wire.Truncate(string(data), 40))
	}
	x, ok := new(big.Int).SetString(strings.TrimPrefix(clean, "+"), 10)
	if !ok {
		return nil, wire.CodecError("msgpack", "invalid int ext %q", wire.Truncate(string(data), 40))
	}
	return wire.Int(x), nil
}
