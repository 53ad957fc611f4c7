package msgpack

import (
	"bytes"

	"github.com/pyro4/pyro4/wire"
	"github.com/vmihailenco/msgpack/v5"
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
