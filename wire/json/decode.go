package json

import (
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/pyro4/pyro4/wire"
)

type decoder struct {
	data []byte
	pos  int
}

func decode(data []byte) (wire.Value, error) {
	if !utf8.Valid(data) {
		return nil, wire.CodecError("json", "payload is not valid UTF-8")
	}
	d := decoder{data: data}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("extra data")
	}
	return v, nil
}

func (d *decoder) errorf(format string, a ...any) error {
	return wire.CodecError("json", format+" at offset %d", append(a, d.pos)...)
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) literal(word string, v wire.Value) (wire.Value, error) {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return v, nil
	}
	return nil, d.errorf("expecting value")
}

func (d *decoder) value(depth int) (wire.Value, error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf("expecting value")
	}
	switch c := d.data[d.pos]; c {
	case '"':
		return d.str()
	case '{':
		return d.object(depth)
	case '[':
		return d.array(depth)
	case 'n':
		return d.literal("null", nil)
	case 't':
		return d.literal("true", true)
	case 'f':
		return d.literal("false", false)
	case 'N':
		return d.literal("NaN", math.NaN())
	case 'I':
		return d.literal("Infinity", math.Inf(1))
	case '-':
		if d.pos+1 < len(d.data) && d.data[d.pos+1] == 'I' {
			return d.literal("-Infinity", math.Inf(-1))
		}
		return d.number()
	default:
		if c >= '0' && c <= '9' {
			return d.number()
		}
		return nil, d.errorf("expecting value")
	}
}

func (d *decoder) enter(depth int) error {
	if depth >= wire.MaxDepth {
		return d.errorf("value nested deeper than %d", wire.MaxDepth)
	}
	return nil
}

func (d *decoder) array(depth int) (wire.Value, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	d.pos++ // [
	out := wire.List{}
	d.skipSpace()
	if d.eat(']') {
		return out, nil
	}
	for {
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		more, err := d.more(']')
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
	}
}

func (d *decoder) object(depth int) (wire.Value, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	d.pos++ // {
	b := wire.NewDictBuilder(4)
	d.skipSpace()
	if d.eat('}') {
		return b.Dict(), nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("expecting property name enclosed in double quotes")
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if !d.eat(':') {
			return nil, d.errorf("expecting ':' delimiter")
		}
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		b.Put(k, v)
		more, err := d.more('}')
		if err != nil {
			return nil, err
		}
		if !more {
			return b.Dict(), nil
		}
	}
}

// eat consumes c when it is the next byte.
func (d *decoder) eat(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// more reads what follows an item of an array or object: a ',' before the
// next item, or the closing bracket.
func (d *decoder) more(closing byte) (bool, error) {
	d.skipSpace()
	if d.eat(',') {
		return true, nil
	}
	if d.eat(closing) {
		return false, nil
	}
	return false, d.errorf("expecting ',' delimiter")
}

// number follows the grammar of Python's json scanner:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? ; what does not match is
// left for the caller to reject.
func (d *decoder) number() (wire.Value, error) {
	start := d.pos
	p := d.pos
	if d.data[p] == '-' {
		p++
	}
	digits := func(p int) int {
		for p < len(d.data) && d.data[p] >= '0' && d.data[p] <= '9' {
			p++
		}
		return p
	}
	switch {
	case p < len(d.data) && d.data[p] == '0':
		p++
	case p < len(d.data) && d.data[p] >= '1' && d.data[p] <= '9':
		p = digits(p)
	default:
		return nil, d.errorf("expecting value")
	}
	isFloat := false
	if p+1 < len(d.data) && d.data[p] == '.' && d.data[p+1] >= '0' && d.data[p+1] <= '9' {
		p = digits(p + 1)
		isFloat = true
	}
	if p < len(d.data) && (d.data[p] == 'e' || d.data[p] == 'E') {
		q := p + 1
		if q < len(d.data) && (d.data[q] == '+' || d.data[q] == '-') {
			q++
		}
		if q < len(d.data) && d.data[q] >= '0' && d.data[q] <= '9' {
			p = digits(q)
			isFloat = true
		}
	}
	text := string(d.data[start:p])
	d.pos = p
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !wire.IsRangeError(err) {
			return nil, d.errorf("invalid number %q", text)
		}
		return f, nil
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	if len(text) > wire.MaxIntDigits {
		return nil, d.errorf("integer exceeds the limit (%d digits)", wire.MaxIntDigits)
	}
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return nil, d.errorf("invalid number %q", text)
	}
	return wire.Int(n), nil
}

func (d *decoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	// fast path: no escapes
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := string(d.data[start:d.pos])
			d.pos++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", d.errorf("invalid control character")
		}
		d.pos++
	}
	buf := append([]byte(nil), d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), nil
		case c < 0x20:
			return "", d.errorf("invalid control character")
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			break
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := d.unicodeEscape()
			if err != nil {
				return "", err
			}
			buf = wire.AppendCodePoint(buf, r)
		default:
			d.pos -= 2
			return "", d.errorf("invalid \\escape")
		}
	}
	return "", d.errorf("unterminated string")
}

// unicodeEscape reads the XXXX of \uXXXX (already past "\u"), joining a
// surrogate pair into one code point, as Python's json module does.
func (d *decoder) unicodeEscape() (rune, error) {
	r, ok := d.hex4(d.pos)
	if !ok {
		return 0, d.errorf("invalid \\uXXXX escape")
	}
	d.pos += 4
	if r < 0xd800 || r > 0xdfff {
		return r, nil
	}
	if r <= 0xdbff && d.pos+6 <= len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
		if lo, ok := d.hex4(d.pos + 2); ok && lo >= 0xdc00 && lo <= 0xdfff {
			d.pos += 6
			return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), nil
		}
	}
	return r, nil // a lone surrogate, kept as Python's json module keeps it
}

func (d *decoder) hex4(p int) (rune, bool) {
	v, ok := wire.ParseHex(d.data, p, 4)
	return rune(v), ok
}
