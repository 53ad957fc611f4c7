package msgpack

import (
	"encoding/binary"
	"math"
	"math/big"
	"unicode/utf8"

	"github.com/pyro4/pyro4/wire"
	"github.com/vmihailenco/msgpack/v5"
)

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
			// msgpack's str is UTF-8 only; Python's msgpack refuses a
			// surrogate with this same error, and so does this codec
			// rather than send a str the peer would read differently.
			return wire.EncodeUTF8Error("msgpack", x)
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
