package msgpack

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/pyro4/pyro4/wire"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

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
