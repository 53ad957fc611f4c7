package marshal

import (
	"encoding/binary"
	"math"
	"math/big"

	"github.com/pyro4/pyro4/wire"
)

func appendInt32(buf []byte, n int) []byte {
	return binary.LittleEndian.AppendUint32(buf, uint32(int32(n)))
}

func fitsInt32(n int) bool { return n <= math.MaxInt32 }

// appendValue writes v. hashed is true inside a dict key or a set, where a
// set must be written as a frozenset.
func appendValue(buf []byte, v wire.Value, hashed bool, depth int) ([]byte, error) {
	if depth > wire.MaxDepth {
		return nil, wire.CodecError("marshal", "value nested deeper than %d", wire.MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		buf = append(buf, mNone)
	case bool:
		if x {
			buf = append(buf, mTrue)
		} else {
			buf = append(buf, mFalse)
		}
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			buf = appendInt32(append(buf, mInt), int(x))
		} else {
			buf = appendLong(buf, big.NewInt(x))
		}
	case *big.Int:
		if x.IsInt64() && x.Int64() >= math.MinInt32 && x.Int64() <= math.MaxInt32 {
			buf = appendInt32(append(buf, mInt), int(x.Int64()))
		} else {
			buf = appendLong(buf, x)
		}
	case float64:
		buf = binary.LittleEndian.AppendUint64(append(buf, mBinaryFloat), math.Float64bits(x))
	case complex128:
		buf = binary.LittleEndian.AppendUint64(append(buf, mBinaryComplex), math.Float64bits(real(x)))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(imag(x)))
	case string:
		return appendStr(buf, x)
	case []byte:
		if !fitsInt32(len(x)) {
			return nil, wire.CodecError("marshal", "bytes too long")
		}
		buf = append(appendInt32(append(buf, mString), len(x)), x...)
	case wire.Tuple:
		if len(x) < 256 {
			buf = append(buf, mSmallTuple, byte(len(x)))
		} else {
			buf = appendInt32(append(buf, mTuple), len(x))
		}
		return appendItems(buf, x, hashed, depth)
	case wire.List:
		buf = appendInt32(append(buf, mList), len(x))
		return appendItems(buf, x, false, depth)
	case wire.Set:
		code := byte(mSet)
		if hashed {
			code = mFrozenSet
		}
		buf = appendInt32(append(buf, code), len(x))
		return appendItems(buf, x, true, depth)
	case *wire.Dict:
		buf = append(buf, mDict)
		var err error
		for _, it := range x.Items {
			if buf, err = appendValue(buf, it.Key, true, depth+1); err != nil {
				return nil, err
			}
			if buf, err = appendValue(buf, it.Value, false, depth+1); err != nil {
				return nil, err
			}
		}
		buf = append(buf, mNull)
	default:
		return nil, wire.CodecError("marshal", "cannot encode Go type %T", v)
	}
	return buf, nil
}

func appendItems(buf []byte, items []wire.Value, hashed bool, depth int) ([]byte, error) {
	if !fitsInt32(len(items)) {
		return nil, wire.CodecError("marshal", "container too long")
	}
	var err error
	for _, it := range items {
		if buf, err = appendValue(buf, it, hashed, depth+1); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

func appendStr(buf []byte, s string) ([]byte, error) {
	if !fitsInt32(len(s)) {
		return nil, wire.CodecError("marshal", "str too long")
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	switch {
	case ascii && len(s) < 256:
		buf = append(buf, mShortASCII, byte(len(s)))
	case ascii:
		buf = appendInt32(append(buf, mASCII), len(s))
	default:
		if !wire.ValidStr(s) { // surrogates go as CPython writes them
			return nil, wire.CodecError("marshal", "str is not valid UTF-8")
		}
		buf = appendInt32(append(buf, mUnicode), len(s))
	}
	return append(buf, s...), nil
}

// appendLong writes TYPE_LONG: the digit count (negative for a
// negative number) and base 2**15 digits, least significant first.
func appendLong(buf []byte, x *big.Int) []byte {
	abs := new(big.Int).Abs(x)
	nbits := abs.BitLen()
	ndigits := (nbits + 14) / 15
	n := ndigits
	if x.Sign() < 0 {
		n = -n
	}
	buf = appendInt32(append(buf, mLong), n)
	words := abs.Bits()
	const wbits = 32 << (^uint(0) >> 63)
	for i := 0; i < ndigits; i++ {
		var d uint
		for b := 0; b < 15; b++ {
			bit := i*15 + b
			if bit >= nbits {
				break
			}
			if uint(words[bit/wbits])>>(bit%wbits)&1 != 0 {
				d |= 1 << b
			}
		}
		buf = binary.LittleEndian.AppendUint16(buf, uint16(d))
	}
	return buf
}
