package json

import (
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/pyro4/pyro4/wire"
)

func appendValue(buf []byte, v wire.Value, depth int) ([]byte, error) {
	if depth > wire.MaxDepth {
		return nil, wire.CodecError("json", "value nested deeper than %d", wire.MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		buf = append(buf, "null"...)
	case bool:
		buf = strconv.AppendBool(buf, x)
	case int64:
		buf = strconv.AppendInt(buf, x, 10)
	case *big.Int:
		buf = x.Append(buf, 10)
	case float64:
		buf = appendFloat(buf, x)
	case string:
		return appendString(buf, x)
	case []byte:
		return nil, unserializable("bytes")
	case wire.Tuple:
		return appendArray(buf, x, depth)
	case wire.List:
		return appendArray(buf, x, depth)
	case wire.Set:
		return appendArray(buf, x, depth)
	case *wire.Dict:
		return appendObject(buf, x, depth)
	case complex128:
		return nil, unserializable("complex")
	default:
		return nil, wire.CodecError("json", "cannot encode Go type %T", v)
	}
	return buf, nil
}

func unserializable(pyType string) error {
	return &wire.Exception{Class: wire.ClassSerializeError, Message: "don't know how to serialize class <class '" + pyType +
		"'> using serializer JsonSerializer. Give it vars() or an appropriate __getstate__"}
}

func appendFloat(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	return append(buf, wire.FloatRepr(f)...)
}

func appendArray(buf []byte, items []wire.Value, depth int) ([]byte, error) {
	buf = append(buf, '[')
	var err error
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		if buf, err = appendValue(buf, it, depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, ']'), nil
}

func appendObject(buf []byte, d *wire.Dict, depth int) ([]byte, error) {
	buf = append(buf, '{')
	var err error
	for i, it := range d.Items {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		if buf, err = appendKey(buf, it.Key); err != nil {
			return nil, err
		}
		buf = append(buf, ": "...)
		if buf, err = appendValue(buf, it.Value, depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// appendKey converts a key the way json.dumps does: str as is; int,
// float, bool and None by their JSON spelling; anything else is a TypeError.
func appendKey(buf []byte, k wire.Value) ([]byte, error) {
	switch x := k.(type) {
	case string:
		return appendString(buf, x)
	case nil, bool, int64, *big.Int, float64:
		buf = append(buf, '"')
		buf, _ = appendValue(buf, x, 0)
		return append(buf, '"'), nil
	}
	return nil, &wire.Exception{Class: wire.ClassTypeError, Message: "keys must be str, int, float, bool or None, not " + wire.TypeName(k)}
}

const hexDigits = "0123456789abcdef"

func appendString(buf []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return appendSurrogateString(buf, s)
	}
	buf = append(buf, '"')
	buf = appendStringBody(buf, s)
	return append(buf, '"'), nil
}

// appendSurrogateString writes a str that holds surrogates. Python's json
// module escapes one as \uXXXX and reads the escape back as the same lone
// surrogate, so the peer gets its exact str; Pyro4 itself fails instead,
// because it encodes the JSON text as UTF-8. A high surrogate followed by a
// low one cannot be written: JSON readers join the two escapes into one
// character, which would merge this str with another.
func appendSurrogateString(buf []byte, s string) ([]byte, error) {
	if i := wire.InvalidStrAt(s); i >= 0 {
		return nil, wire.CodecError("json", "str is not valid UTF-8 (byte 0x%02x at offset %d)", s[i], i)
	}
	buf = append(buf, '"')
	pos := 0 // code points before s
	for {
		i := wire.SurrogateAt(s)
		if i < 0 {
			break
		}
		pos += utf8.RuneCountInString(s[:i])
		r, _ := wire.DecodeCodePoint(s[i:])
		if r <= 0xdbff {
			if lo, n := wire.DecodeCodePoint(s[i+3:]); n == 3 && lo >= 0xdc00 {
				return nil, surrogatePairError(s[i:i+6], pos)
			}
		}
		buf = appendStringBody(buf, s[:i])
		buf = append(buf, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		s = s[i+3:]
		pos++
	}
	buf = appendStringBody(buf, s)
	return append(buf, '"'), nil
}

// surrogatePairError refuses a str that holds the high and low surrogate
// pair at code point pos.
func surrogatePairError(pair string, pos int) error {
	return wire.CodecError("json", "str holds the surrogates %s at position %d, which JSON would read back as one character",
		wire.StrRepr(pair), pos)
}

// appendStringBody writes s, valid UTF-8, between the quotes.
func appendStringBody(buf []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"':
			buf = append(buf, `\"`...)
		case '\\':
			buf = append(buf, `\\`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\t':
			buf = append(buf, `\t`...)
		case '\b':
			buf = append(buf, `\b`...)
		case '\f':
			buf = append(buf, `\f`...)
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	return append(buf, s[start:]...)
}
