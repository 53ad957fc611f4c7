package wire

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// Repr formats v as Python's repr() does. The control tool prints metadata
// lists this way, and exception texts quote values with it.
func Repr(v Value) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v Value) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(FloatRepr(x))
	case complex128:
		b.WriteString(complexRepr(x))
	case string:
		b.WriteString(StrRepr(x))
	case []byte:
		b.WriteString(bytesRepr(x))
	case Tuple:
		b.WriteByte('(')
		writeItems(b, x)
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case List:
		b.WriteByte('[')
		writeItems(b, x)
		b.WriteByte(']')
	case Set:
		if len(x) == 0 {
			b.WriteString("set()")
			return
		}
		b.WriteByte('{')
		writeItems(b, x)
		b.WriteByte('}')
	case *Dict:
		b.WriteByte('{')
		for i := 0; i < x.Len(); i++ {
			it := x.Items[i]
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, it.Key)
			b.WriteString(": ")
			writeRepr(b, it.Value)
		}
		b.WriteByte('}')
	default:
		b.WriteString("<" + TypeName(v) + ">")
	}
}

func writeItems(b *strings.Builder, items []Value) {
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		writeRepr(b, it)
	}
}

// FloatRepr formats a float as Python's repr: the shortest round-tripping
// digits, always with a '.' or exponent, 'inf', '-inf' and 'nan'.
func FloatRepr(f float64) string { return pyFloat(f, true) }

// pyFloat is Python's 'r' float format: shortest digits, exponent form
// (e+16, e-05) from 1e16 up and below 1e-4, nan without a sign. addDot is
// Py_DTSF_ADD_DOT_0, which float repr uses and complex repr does not.
func pyFloat(f float64, addDot bool) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if abs := math.Abs(f); abs != 0 && (abs >= 1e16 || abs < 1e-4) {
		// Go's shortest 'e' form is Python's: at least two exponent digits.
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if addDot && !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// complexRepr is CPython's complex_repr: a bare imaginary part when the real
// part is +0, else both in parentheses with the imaginary part always signed
// (nan has no sign in either).
func complexRepr(c complex128) string {
	re, im := real(c), imag(c)
	if re == 0 && !math.Signbit(re) {
		return pyFloat(im, false) + "j"
	}
	ims := pyFloat(im, false)
	if !strings.HasPrefix(ims, "-") {
		ims = "+" + ims
	}
	return "(" + pyFloat(re, false) + ims + "j)"
}

// StrRepr quotes s as Python's repr of a str: single quotes unless the text
// holds a single quote and no double quote; printable non-ASCII kept as is.
func StrRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for i := 0; i < len(s); {
		r, n := DecodeCodePoint(s[i:])
		i += n
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + hex2(uint64(r)))
		case r < 0x80 || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			b.WriteString(`\x` + hex2(uint64(r)))
		case r <= 0xffff:
			b.WriteString(`\u` + pad(strconv.FormatUint(uint64(r), 16), 4))
		default:
			b.WriteString(`\U` + pad(strconv.FormatUint(uint64(r), 16), 8))
		}
	}
	b.WriteByte(q)
	return b.String()
}

func bytesRepr(p []byte) string {
	q := byte('\'')
	if strings.IndexByte(string(p), '\'') >= 0 && strings.IndexByte(string(p), '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(q)
	for _, c := range p {
		switch {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x` + hex2(uint64(c)))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func hex2(n uint64) string { return pad(strconv.FormatUint(n, 16), 2) }

func pad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}
