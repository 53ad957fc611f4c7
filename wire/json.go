package wire

import (
	"encoding/base64"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// jsonCodec is Pyro4's JsonSerializer: Python's json module with
// ensure_ascii=False, so output matches json.dumps byte for byte: ", " and
// ": " separators, keys in insertion order, floats as repr, NaN/Infinity,
// raw UTF-8 for non-ASCII and \uXXXX for control characters.
//
// Tuples and sets become lists, as Pyro4's default() hook makes them.
// Python's Pyro4 cannot send bytes or complex over json at all; we send bytes
// the way serpent does, as {"data": <base64>, "encoding": "base64"}, which a
// Python peer receives as that plain dict, and refuse complex with Pyro4's
// own SerializeError text.
//
// Decoding gives *Dict for objects (order kept, a repeated key keeps its first
// position and last value, as Python's dict does), List for arrays, int64 or
// *big.Int for integers (at most 4300 digits, Python's limit) and float64 for
// the rest. A \u escape of a lone surrogate is refused: Go strings cannot
// hold one, and Python could not send it on as UTF-8 either.
type jsonCodec struct{}

func init() { register(jsonCodec{}) }

func (jsonCodec) ID() uint16   { return JSONID }
func (jsonCodec) Name() string { return "json" }

func (jsonCodec) Marshal(v Value) ([]byte, error) {
	return appendJSON(make([]byte, 0, 256), v, 0)
}

func (jsonCodec) MarshalCall(c Call) ([]byte, error) {
	d := NewDict(4)
	d.Append("object", c.Object)
	d.Append("method", c.Method)
	d.Append("params", callArgs(c))
	d.Append("kwargs", callKwargs(c))
	return appendJSON(make([]byte, 0, 128), d, 0)
}

func (jsonCodec) Unmarshal(data []byte) (v Value, err error) {
	defer recoverCodec("json", &err)
	return decodeJSON(data)
}

func (jsonCodec) UnmarshalCall(data []byte) (c Call, err error) {
	defer recoverCodec("json", &err)
	v, err := decodeJSON(data)
	if err != nil {
		return Call{}, err
	}
	d, ok := v.(*Dict)
	if !ok {
		return Call{}, codecErr("json", "call must be an object, not %s", TypeName(v))
	}
	var parts [4]Value
	for i, k := range [4]string{"object", "method", "params", "kwargs"} {
		if parts[i], ok = d.GetString(k); !ok {
			return Call{}, codecErr("json", "call has no %q", k)
		}
	}
	return callFromValues("json", parts[0], parts[1], parts[2], parts[3])
}

// recoverCodec turns a decoder bug into an error instead of a crashed
// server. Decoders check bounds themselves; this is the second line.
func recoverCodec(codec string, err *error) {
	if r := recover(); r != nil {
		*err = codecErr(codec, "internal error: %v", r)
	}
}

func appendJSON(buf []byte, v Value, depth int) ([]byte, error) {
	if depth > MaxDepth {
		return nil, codecErr("json", "value nested deeper than %d", MaxDepth)
	}
	var err error
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
		buf = appendJSONFloat(buf, x)
	case string:
		return appendJSONString(buf, x)
	case []byte:
		buf = append(buf, `{"data": "`...)
		buf = base64.StdEncoding.AppendEncode(buf, x)
		buf = append(buf, `", "encoding": "base64"}`...)
	case Tuple:
		return appendJSONArray(buf, x, depth)
	case List:
		return appendJSONArray(buf, x, depth)
	case Set:
		return appendJSONArray(buf, x, depth)
	case *Dict:
		return appendJSONObject(buf, x, depth)
	case complex128:
		return nil, jsonUnserializable("complex")
	default:
		return nil, codecErr("json", "cannot encode Go type %T", v)
	}
	return buf, err
}

func jsonUnserializable(pyType string) error {
	return &Exception{Class: ClassSerializeError, Message: "don't know how to serialize class <class '" + pyType +
		"'> using serializer JsonSerializer. Give it vars() or an appropriate __getstate__"}
}

func appendJSONFloat(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	return append(buf, FloatRepr(f)...)
}

func appendJSONArray(buf []byte, items []Value, depth int) ([]byte, error) {
	buf = append(buf, '[')
	var err error
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		if buf, err = appendJSON(buf, it, depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, ']'), nil
}

func appendJSONObject(buf []byte, d *Dict, depth int) ([]byte, error) {
	buf = append(buf, '{')
	var err error
	for i, it := range d.Items {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		if buf, err = appendJSONKey(buf, it.Key); err != nil {
			return nil, err
		}
		buf = append(buf, ": "...)
		if buf, err = appendJSON(buf, it.Value, depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// appendJSONKey converts a key the way json.dumps does: str as is; int,
// float, bool and None by their JSON spelling; anything else is a TypeError.
func appendJSONKey(buf []byte, k Value) ([]byte, error) {
	switch x := k.(type) {
	case string:
		return appendJSONString(buf, x)
	case nil, bool, int64, *big.Int, float64:
		buf = append(buf, '"')
		buf, _ = appendJSON(buf, x, 0)
		return append(buf, '"'), nil
	}
	return nil, &Exception{Class: ClassTypeError, Message: "keys must be str, int, float, bool or None, not " + TypeName(k)}
}

const hexDigits = "0123456789abcdef"

func appendJSONString(buf []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, codecErr("json", "str is not valid UTF-8")
	}
	buf = append(buf, '"')
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
	buf = append(buf, s[start:]...)
	return append(buf, '"'), nil
}

// jsonMaxIntDigits is Python 3.11's default limit on int() of a decimal string,
// which json.loads applies too.
const jsonMaxIntDigits = 4300

type jsonDecoder struct {
	data []byte
	pos  int
}

func decodeJSON(data []byte) (Value, error) {
	if !utf8.Valid(data) {
		return nil, codecErr("json", "payload is not valid UTF-8")
	}
	d := jsonDecoder{data: data}
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

func (d *jsonDecoder) errorf(format string, a ...any) error {
	return codecErr("json", format+" at offset %d", append(a, d.pos)...)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) literal(word string, v Value) (Value, error) {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return v, nil
	}
	return nil, d.errorf("expecting value")
}

func (d *jsonDecoder) value(depth int) (Value, error) {
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

func (d *jsonDecoder) enter(depth int) error {
	if depth >= MaxDepth {
		return d.errorf("value nested deeper than %d", MaxDepth)
	}
	return nil
}

func (d *jsonDecoder) array(depth int) (Value, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	d.pos++ // [
	out := List{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return out, nil
	}
	for {
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("expecting ',' delimiter")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return out, nil
		default:
			return nil, d.errorf("expecting ',' delimiter")
		}
	}
}

func (d *jsonDecoder) object(depth int) (Value, error) {
	if err := d.enter(depth); err != nil {
		return nil, err
	}
	d.pos++ // {
	b := newDictBuilder(4)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return b.d, nil
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
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expecting ':' delimiter")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		b.set(k, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("expecting ',' delimiter")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return b.d, nil
		default:
			return nil, d.errorf("expecting ',' delimiter")
		}
	}
}

// number follows the grammar of Python's json scanner:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? ; what does not match is
// left for the caller to reject.
func (d *jsonDecoder) number() (Value, error) {
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
		if err != nil && !isRangeErr(err) {
			return nil, d.errorf("invalid number %q", text)
		}
		return f, nil
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	if len(text) > jsonMaxIntDigits {
		return nil, d.errorf("integer exceeds the limit (%d digits)", jsonMaxIntDigits)
	}
	n, ok := new(big.Int).SetString(text, 10)
	if !ok {
		return nil, d.errorf("invalid number %q", text)
	}
	return Int(n), nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func (d *jsonDecoder) str() (string, error) {
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
			buf = utf8.AppendRune(buf, r)
		default:
			d.pos -= 2
			return "", d.errorf("invalid \\escape")
		}
	}
	return "", d.errorf("unterminated string")
}

// unicodeEscape reads the XXXX of \uXXXX (already past "\u"), joining a
// surrogate pair into one code point.
func (d *jsonDecoder) unicodeEscape() (rune, error) {
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
	return 0, d.errorf("lone surrogate \\u%04x is not supported", r)
}

func (d *jsonDecoder) hex4(p int) (rune, bool) {
	if p+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[p : p+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
