package serpent

import (
	"bytes"
	"errors"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/pyro4/pyro4/wire"
)

// strings reads one string literal or several adjacent ones, which Python
// joins into one value; str and bytes literals cannot be mixed.
func (p *parser) stringAtom() (wire.Value, error) {
	first, isBytes, err := p.stringLiteral()
	if err != nil {
		return nil, err
	}
	var joined []byte
	for {
		p.ws()
		if !p.atString() {
			break
		}
		if joined == nil {
			// first may live in the scratch buffer the next literal reuses
			joined = append([]byte(nil), first...)
		}
		litPos := p.pos
		next, nextBytes, err := p.stringLiteral()
		if err != nil {
			return nil, err
		}
		if nextBytes != isBytes {
			return nil, p.errorAt(litPos, "cannot mix bytes and str literals")
		}
		joined = append(joined, next...)
	}
	if joined == nil {
		if v, ok := interned[string(first)]; ok && !isBytes {
			return v, nil
		}
		joined = first
	}
	if isBytes {
		return append([]byte{}, joined...), nil
	}
	return string(joined), nil
}

// interned holds, already boxed as Values, the strs that recur in
// every name server request and URI: the object id, method and keyword
// names, class dict keys. Reading one costs a map lookup instead of two
// allocations (its bytes and its interface box).
var interned = func() map[string]wire.Value {
	m := map[string]wire.Value{}
	for _, s := range []string{
		"Pyro.NameServer", "Pyro.DaemonObject", "get_metadata",
		"lookup", "register", "remove", "list", "count", "ping", "set_metadata",
		"name", "uri", "safe", "metadata", "return_metadata", "prefix", "regex",
		"metadata_all", "metadata_any", "metadata_add", "metadata_remove",
		"__class__", "state", wire.ClassURI, "PYRO", "data", "encoding", "base64",
		"methods", "attrs", "oneway", "handshake", "object", "hello",
		"localhost", "127.0.0.1", "::1",
	} {
		m[s] = s
	}
	return m
}()

// atString reports whether a string literal (with an optional prefix)
// starts at p.pos.
func (p *parser) atString() bool {
	for i := p.pos; i < len(p.src) && i < p.pos+3; i++ {
		switch c := p.src[i]; c | 0x20 {
		case 'r', 'u', 'b', 'f':
		default:
			return c == '\'' || c == '"'
		}
	}
	return false
}

// stringLiteral reads one literal and returns its value, which may alias the
// source or the parser's scratch buffer until the next literal is read.
func (p *parser) stringLiteral() (text []byte, isBytes bool, err error) {
	start := p.pos
	raw, isBytes, err := p.stringPrefix()
	if err != nil {
		return nil, false, err
	}
	q := p.src[p.pos]
	triple := p.pos+2 < len(p.src) && p.src[p.pos+1] == q && p.src[p.pos+2] == q
	if body, ok := p.plainLiteral(q, triple, isBytes); ok {
		return body, isBytes, nil
	}
	if triple {
		p.pos += 3
	} else {
		p.pos++
	}
	bodyStart, hasEscape := p.pos, false
	for {
		if p.pos >= len(p.src) {
			return nil, false, p.errorAt(start, "unterminated string literal")
		}
		c := p.src[p.pos]
		if c == q && (!triple || (p.pos+2 < len(p.src) && p.src[p.pos+1] == q && p.src[p.pos+2] == q)) {
			break
		}
		switch {
		case c == '\n' && !triple:
			return nil, false, p.errorAt(start, "unterminated string literal")
		case c == '\\':
			hasEscape = true
			p.pos++
			if p.pos >= len(p.src) {
				return nil, false, p.errorAt(start, "unterminated string literal")
			}
		case c >= utf8.RuneSelf && isBytes:
			return nil, false, p.errorf("bytes can only contain ASCII literal characters")
		}
		p.pos++
	}
	body := p.src[bodyStart:p.pos]
	if triple {
		p.pos += 3
	} else {
		p.pos++
	}
	if raw || !hasEscape {
		return body, isBytes, nil
	}
	text, err = p.unescape(body, bodyStart, isBytes)
	return text, isBytes, err
}

// plainLiteral is the fast path of stringLiteral for the literals serpent
// writes: single-quoted, on one line, without escapes. It finds the closing
// quote with a vectorised search and consumes the literal, or reports false
// and consumes nothing.
func (p *parser) plainLiteral(q byte, triple, isBytes bool) ([]byte, bool) {
	if triple {
		return nil, false
	}
	rest := p.src[p.pos+1:]
	end := bytes.IndexByte(rest, q)
	if end < 0 {
		return nil, false
	}
	body := rest[:end]
	if bytes.IndexByte(body, '\\') >= 0 || bytes.IndexByte(body, '\n') >= 0 {
		return nil, false
	}
	if isBytes {
		for _, c := range body {
			if c >= utf8.RuneSelf {
				return nil, false
			}
		}
	}
	p.pos += end + 2
	return body, true
}

// stringPrefix reads the prefix letters of a string literal, up to its
// opening quote.
func (p *parser) stringPrefix() (raw, isBytes bool, err error) {
	start := p.pos
	uni, fstr := false, false
letters:
	for ; p.pos < len(p.src); p.pos++ {
		c := p.src[p.pos] | 0x20
		switch {
		case c == 'r' && !raw:
			raw = true
		case c == 'b' && !isBytes:
			isBytes = true
		case c == 'u' && !uni:
			uni = true
		case c == 'f' && !fstr:
			fstr = true
		default:
			break letters
		}
	}
	if n := p.pos - start; n > 2 || (uni && n > 1) || (isBytes && fstr) {
		return false, false, p.errorAt(start, "invalid string prefix %q", p.src[start:p.pos])
	}
	if fstr {
		return false, false, p.errorAt(start, "an f-string is not a literal")
	}
	if c := p.peek(); c != '\'' && c != '"' {
		return false, false, p.errorAt(start, "invalid string prefix %q", p.src[start:p.pos+1])
	}
	return raw, isBytes, nil
}

// unescape decodes the backslash escapes of a str or bytes literal's body.
func (p *parser) unescape(body []byte, base int, isBytes bool) ([]byte, error) {
	out := p.scratch[:0]
	defer func() { p.scratch = out[:0] }()
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		escPos := base + i
		e := body[i+1] // the scanner guarantees a character after a backslash
		i += 2
		if r := wire.PyEscape(e); r != 0 {
			out = append(out, r)
			continue
		}
		switch e {
		case '\n': // line continuation
		case '0', '1', '2', '3', '4', '5', '6', '7':
			var v int
			v, i = wire.OctalEscape(body, i-1)
			if isBytes {
				out = append(out, byte(v)) // Python 3.11 keeps the low 8 bits
			} else {
				out = utf8.AppendRune(out, rune(v))
			}
		case 'x', 'u', 'U':
			n := 2
			if e == 'u' {
				n = 4
			} else if e == 'U' {
				n = 8
			}
			if e != 'x' && isBytes {
				out = append(out, '\\', e)
				continue
			}
			v, ok := wire.ParseHex(body, i, n)
			if !ok {
				return nil, p.errorAt(escPos, "truncated \\%c escape: want %d hex digits", e, n)
			}
			i += n
			switch {
			case isBytes:
				out = append(out, byte(v))
			case v > utf8.MaxRune:
				return nil, p.errorAt(escPos, "illegal Unicode character \\U%08x", v)
			default:
				out = wire.AppendCodePoint(out, rune(v)) // a surrogate stays one
			}
		case 'N':
			if isBytes {
				out = append(out, '\\', e)
				continue
			}
			return nil, p.errorAt(escPos, "\\N{...} escapes are not supported")
		default:
			out = append(out, '\\', e)
		}
	}
	return out, nil
}

// number reads an int, float or imaginary literal with Python's syntax. Like
// Python, it limits decimal int literals to MaxIntDigits digits (their
// conversion is superlinear) but not hexadecimal, octal or binary ones.
func (p *parser) number() (wire.Value, litKind, error) {
	start := p.pos
	if p.src[p.pos] == '0' && p.pos+1 < len(p.src) {
		switch p.src[p.pos+1] | 0x20 {
		case 'x':
			return p.prefixedInt(start, 16, "hexadecimal")
		case 'o':
			return p.prefixedInt(start, 8, "octal")
		case 'b':
			return p.prefixedInt(start, 2, "binary")
		}
	}
	bad := func() (wire.Value, litKind, error) {
		return nil, litNumber, p.errorAt(start, "invalid decimal literal")
	}
	isFloat := false
	if digit(p.peek()) && !p.digitPart() {
		return bad()
	}
	intEnd := p.pos
	if p.peek() == '.' {
		isFloat = true
		p.pos++
		if digit(p.peek()) && !p.digitPart() {
			return bad()
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		isFloat = true
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if !digit(p.peek()) || !p.digitPart() {
			return bad()
		}
	}
	text := p.src[start:p.pos]
	imaginary := false
	if c := p.peek(); c == 'j' || c == 'J' {
		imaginary = true
		p.pos++
	}
	if p.pos < len(p.src) && identChar(p.src[p.pos]) {
		return bad()
	}
	if !isFloat && !imaginary {
		return p.decimalInt(start, p.src[start:intEnd])
	}
	f, err := strconv.ParseFloat(noUnderscores(text), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return bad()
	}
	if imaginary {
		return complex(0, f), litNumber, nil
	}
	return f, litNumber, nil
}

// digitPart consumes digits with single underscores between them; p.pos is
// at a digit.
func (p *parser) digitPart() bool {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' {
			if p.pos+1 >= len(p.src) || !digit(p.src[p.pos+1]) {
				return false
			}
		} else if !digit(c) {
			break
		}
		p.pos++
	}
	return true
}

func (p *parser) decimalInt(start int, text []byte) (wire.Value, litKind, error) {
	digits := noUnderscores(text)
	if digits[0] == '0' {
		for i := 1; i < len(digits); i++ {
			if digits[i] != '0' {
				return nil, litNumber, p.errorAt(start, "leading zeros in decimal integer literals are not permitted")
			}
		}
		return int64(0), litNumber, nil
	}
	if len(digits) <= 18 {
		var n int64
		for i := 0; i < len(digits); i++ {
			n = n*10 + int64(digits[i]-'0')
		}
		return n, litNumber, nil
	}
	if len(digits) > wire.MaxIntDigits {
		return nil, litNumber, p.errorAt(start, "int literal with %d digits exceeds Python's limit of %d", len(digits), wire.MaxIntDigits)
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, litNumber, p.errorAt(start, "invalid decimal literal")
	}
	return wire.Int(n), litNumber, nil
}

func (p *parser) prefixedInt(start, base int, kind string) (wire.Value, litKind, error) {
	p.pos += 2
	isBaseDigit := func(c byte) bool {
		switch base {
		case 16:
			return digit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
		case 8:
			return c >= '0' && c <= '7'
		}
		return c == '0' || c == '1'
	}
	digitStart := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '_' && p.pos+1 < len(p.src) && isBaseDigit(p.src[p.pos+1]) {
			p.pos += 2
			continue
		}
		if !isBaseDigit(c) {
			break
		}
		p.pos++
	}
	if p.pos == digitStart || (p.pos < len(p.src) && identChar(p.src[p.pos])) {
		return nil, litNumber, p.errorAt(start, "invalid %s literal", kind)
	}
	n, ok := new(big.Int).SetString(noUnderscores(p.src[digitStart:p.pos]), base)
	if !ok {
		return nil, litNumber, p.errorAt(start, "invalid %s literal", kind)
	}
	return wire.Int(n), litNumber, nil
}

func noUnderscores(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c != '_' {
			out = append(out, c)
		}
	}
	return string(out)
}

func digit(c byte) bool      { return c >= '0' && c <= '9' }
func identStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func identChar(c byte) bool {
	return identStart(c) || digit(c) || c >= utf8.RuneSelf
}
