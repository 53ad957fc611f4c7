package serpent

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/pyro4/pyro4/wire"
)

// appendValue writes v the way serpent's Serializer._serialize does.
func appendValue(b []byte, v wire.Value, depth int) ([]byte, error) {
	if depth > wire.MaxDepth {
		return b, fmt.Errorf("value nested deeper than %d levels", wire.MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(b, "None"...), nil
	case bool:
		if x {
			return append(b, "True"...), nil
		}
		return append(b, "False"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case *big.Int:
		return appendBigInt(b, x)
	case float64:
		return appendFloat(b, x), nil
	case complex128:
		return appendComplex(b, x)
	case string:
		return appendStr(b, x), nil
	case []byte:
		return appendBytes(b, x), nil
	case wire.Tuple:
		return appendTuple(b, x, depth)
	case wire.List:
		return appendList(b, x, depth)
	case wire.Set:
		return appendSet(b, x, depth)
	case *wire.Dict:
		return appendDict(b, x, depth)
	case wire.URI:
		return appendValue(b, x.Value(), depth)
	case *wire.Exception:
		return appendValue(b, x.Value(), depth)
	}
	return b, fmt.Errorf("cannot encode Go type %T", v)
}

func appendBigInt(b []byte, x *big.Int) ([]byte, error) {
	// 14300 bits is more than 4300 digits: refuse before a costly conversion
	if x.BitLen() > 14300 {
		return b, fmt.Errorf("int with more than %d digits: Python refuses to convert it", wire.MaxIntDigits)
	}
	start := len(b)
	b = x.Append(b, 10)
	digits := len(b) - start
	if x.Sign() < 0 {
		digits--
	}
	if digits > wire.MaxIntDigits {
		return b[:start], fmt.Errorf("int with more than %d digits: Python refuses to convert it", wire.MaxIntDigits)
	}
	return b, nil
}

// appendFloat writes repr(f), except that serpent spells the values
// without a literal as an overflowing literal (inf) or a class dict (nan).
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "{'__class__':'float','value':'nan'}"...)
	case math.IsInf(f, 1):
		return append(b, "1e30000"...)
	case math.IsInf(f, -1):
		return append(b, "-1e30000"...)
	}
	// Python's repr switches to exponent notation outside [1e-4, 1e16); both
	// it and Go write the shortest round-tripping digits and a two-digit
	// minimum exponent ("1e-05", "1e+16").
	if abs := math.Abs(f); abs != 0 && (abs >= 1e16 || abs < 1e-4) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}

// appendComplex writes "(real+imagj)" as serpent does. Two values
// serpent writes but cannot read back are handled differently: a nan part
// has no literal at all (an error here), and a -0.0 imaginary part, which
// serpent writes as "+-0.0j", is written "-0.0j" (read back as +0.0j, an
// equal value).
func appendComplex(b []byte, c complex128) ([]byte, error) {
	re, im := real(c), imag(c)
	if math.IsNaN(re) || math.IsNaN(im) {
		return b, errors.New("complex with a nan part has no serpent literal")
	}
	b = append(b, '(')
	b = appendFloat(b, re)
	if im >= 0 && !math.Signbit(im) {
		b = append(b, '+')
	}
	b = appendFloat(b, im)
	return append(b, "j)"...), nil
}

// appendBytes writes repr({'data': base64, 'encoding': 'base64'}),
// which is how serpent sends bytes, bytearray and memoryview.
func appendBytes(b []byte, p []byte) []byte {
	b = append(b, "{'data': '"...)
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, "', 'encoding': 'base64'}"...)
}

// Classes of a byte in a str being written, as bit flags so that a whole
// string is classified by OR-ing table entries without branches.
const (
	strSingle byte = 1 << iota // '
	strDouble                  // "
	strEscape                  // backslash, a control byte, DEL, or a non-ASCII byte
)

// strClass classifies every byte value; strRunSafe[dq] says which bytes are
// copied verbatim inside a literal quoted with " (dq=1) or ' (dq=0).
var strClass, strRunSafe = func() (cls [256]byte, safe [2][256]bool) {
	for c := 0; c < 256; c++ {
		switch {
		case c == '\'', c == '"':
			if c == '\'' {
				cls[c] = strSingle
			} else {
				cls[c] = strDouble
			}
			safe[0][c] = c == '"'
			safe[1][c] = c == '\''
		case c < 0x20 || c >= 0x7f || c == '\\':
			cls[c] = strEscape
		default:
			safe[0][c], safe[1][c] = true, true
		}
	}
	return cls, safe
}()

// appendStr writes Python's repr of a str. A surrogate is written as its
// \u escape, as repr does, so the peer gets the very str back; bytes that
// are no code point (which no decoder makes) are written as U+FFFD. It is on the path of every
// name and URI the name server sends, hence the tables and the copying of
// whole runs of bytes that need no escape.
func appendStr(b []byte, s string) []byte {
	var cls byte
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if strWordBad(load64(s, i)) == 0 {
			continue
		}
		for _, c := range []byte(s[i : i+8]) {
			cls |= strClass[c]
		}
	}
	for ; i < len(s); i++ {
		cls |= strClass[s[i]]
	}
	q, dq := byte('\''), 0
	if cls&(strSingle|strDouble) == strSingle {
		q, dq = '"', 1
	}
	b = append(b, q)
	if cls&strEscape == 0 && cls&(strSingle|strDouble) != strSingle|strDouble {
		b = append(b, s...)
		return append(b, q)
	}
	safe := &strRunSafe[dq]
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && safe[s[j]] {
			j++
		}
		b = append(b, s[i:j]...)
		if i = j; i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == q || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default: // the other control bytes and DEL
				b = appendHexEscape(b, 'x', uint32(c), 2)
			}
			continue
		}
		r, n := wire.DecodeCodePoint(s[i:])
		switch {
		case n == 1: // no code point
			b = utf8.AppendRune(b, utf8.RuneError)
		case r >= wire.MinSurrogate && r <= wire.MaxSurrogate:
			b = appendHexEscape(b, 'u', uint32(r), 4)
		case unicode.IsPrint(r):
			b = append(b, s[i:i+n]...)
		case r <= 0xff:
			b = appendHexEscape(b, 'x', uint32(r), 2)
		case r <= 0xffff:
			b = appendHexEscape(b, 'u', uint32(r), 4)
		default:
			b = appendHexEscape(b, 'U', uint32(r), 8)
		}
		i += n
	}
	return append(b, q)
}

// load64 reads s[i:i+8] little-endian; the compiler makes it one load.
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// strWordBad is nonzero when one of the 8 bytes in w has a strClass bit:
// DEL or non-ASCII (w+1 sets a high bit; a carry into the next byte comes
// only from a 0xff byte, itself bad), a control byte, a quote or a
// backslash (the exact "has a zero byte" test on w xor the byte). Zero means
// the word needs no table lookup.
func strWordBad(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x2, x3, x4 := w^(ones*'\''), w^(ones*'"'), w^(ones*'\\')
	return (w | (w + ones) | (w-ones*0x20)&^w |
		(x2-ones)&^x2 | (x3-ones)&^x3 | (x4-ones)&^x4) & highs
}

func appendHexEscape(b []byte, kind byte, r uint32, digits int) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '\\', kind)
	for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
		b = append(b, hex[(r>>uint(shift))&0xf])
	}
	return b
}

func appendTuple(b []byte, t []wire.Value, depth int) ([]byte, error) {
	b, err := appendItems(append(b, '('), t, depth)
	if err != nil {
		return b, err
	}
	if len(t) == 1 {
		b = append(b, ',')
	}
	return append(b, ')'), nil
}

func appendList(b []byte, l wire.List, depth int) ([]byte, error) {
	b, err := appendItems(append(b, '['), l, depth)
	if err != nil {
		return b, err
	}
	return append(b, ']'), nil
}

// appendItems writes the items of a tuple or list, separated by commas.
func appendItems(b []byte, items []wire.Value, depth int) ([]byte, error) {
	var err error
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendValue(b, it, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendSet writes a set; Python has no empty-set literal, so serpent
// writes an empty set as an empty tuple.
func appendSet(b []byte, s wire.Set, depth int) ([]byte, error) {
	if len(s) == 0 {
		return append(b, "()"...), nil
	}
	b = append(b, '{')
	var err error
	for i, it := range s {
		if i > 0 {
			b = append(b, ',')
		}
		if err = checkKey(it); err != nil {
			return b, fmt.Errorf("set element: %w", err)
		}
		if b, err = appendValue(b, it, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendDict writes the items in their order: serpent sorts keys
// only in indent mode, which Pyro4 does not use.
func appendDict(b []byte, d *wire.Dict, depth int) ([]byte, error) {
	b = append(b, '{')
	var err error
	var items []wire.DictItem
	if d != nil {
		items = d.Items
	}
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		if err = checkKey(it.Key); err != nil {
			return b, fmt.Errorf("dict key: %w", err)
		}
		if b, err = appendValue(b, it.Key, depth+1); err != nil {
			return b, err
		}
		b = append(b, ':')
		if b, err = appendValue(b, it.Value, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// checkKey refuses what serpent refuses as a dict key or set element
// (anything but bool, int, float, complex, str, bytes and tuple) and also
// what serpent would write but Python could not read back: bytes (written as
// a dict), and tuples holding an unhashable value or a nan.
func checkKey(k wire.Value) error {
	switch x := k.(type) {
	case bool, int64, *big.Int, string, complex128:
		return nil
	case float64:
		if math.IsNaN(x) {
			return errors.New("nan cannot be a serpent key")
		}
		return nil
	case wire.Tuple:
		for _, it := range x {
			if it == nil {
				continue
			}
			if err := checkKey(it); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("type %s cannot be a serpent key", wire.TypeName(k))
}
