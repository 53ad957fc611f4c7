package json

import (
	"github.com/pyro4/pyro4/wire"
)

// codec is Pyro4's JsonSerializer: Python's json module with
// ensure_ascii=False, so output matches json.dumps byte for byte: ", " and
// ": " separators, keys in insertion order, floats as repr, NaN/Infinity,
// raw UTF-8 for non-ASCII and \uXXXX for control characters.
//
// Tuples and sets become lists, as Pyro4's default() hook makes them.
// Pyro4's json serializer cannot send bytes or complex at all, and neither
// do we: both are refused with Pyro4's own SerializeError text.
//
// Decoding gives *Dict for objects (order kept, a repeated key keeps its first
// position and last value, as Python's dict does), List for arrays, int64 or
// *big.Int for integers (at most 4300 digits, Python's limit) and float64 for
// the rest. A \u escape of a lone surrogate is kept as that surrogate (see
// wire.AppendCodePoint) and written back as the same escape.
type codec struct{}

func init() { wire.Register(codec{}) }

func (codec) ID() uint16   { return wire.JSONID }
func (codec) Name() string { return "json" }

func (codec) Marshal(v wire.Value) ([]byte, error) {
	return appendValue(make([]byte, 0, 256), v, 0)
}

// AppendMarshal implements AppendMarshaler.
func (codec) AppendMarshal(dst []byte, v wire.Value) ([]byte, error) {
	b, err := appendValue(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return b, nil
}

func (codec) Unmarshal(data []byte) (v wire.Value, err error) {
	defer wire.RecoverPanic("json", &err)
	return decode(data)
}
