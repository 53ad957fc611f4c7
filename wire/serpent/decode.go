package serpent

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"sync"
	"unicode/utf8"

	"github.com/pyro4/pyro4/wire"
)

// parse reads a serpent document: one Python expression made of the
// literals ast.literal_eval accepts (which is all serpent.loads does), then
// turns serpent's nan class dict into a float as Pyro4's SerpentSerializer
// does. Other class dicts stay dicts: what they become is not the codec's
// business.
//
// Deliberate limits: \N{name} escapes are refused (no Unicode name table),
// as is the Ellipsis literal (no Value for it), and `(set)()` is not
// recognised as `set()`. A surrogate escape ("\ud800") is kept as the
// surrogate (see wire.AppendCodePoint), so distinct strs stay distinct.
func parse(data []byte) (v wire.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, wire.PanicError("serpent", r)
		}
	}()
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, codecErr("offset %d: data contains a NUL byte (corrupted?)", i)
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return nil, codecErr("offset %d: data is not valid UTF-8", i)
	}
	if bytes.IndexByte(data, '\r') >= 0 {
		// Python's tokenizer reads \r\n and \r as \n, in strings too. Error
		// offsets then count a \r\n as one byte.
		data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	}
	p := parsers.Get().(*parser)
	*p = parser{src: data, scratch: p.scratch[:0], stack: p.stack[:0], dstack: p.dstack[:0]}
	v, err = p.document()
	p.release()
	return v, err
}

// Parsers are pooled so that their stacks, grown to the size of the largest
// container seen, are not grown again on every request.
var parsers = sync.Pool{New: func() any { return new(parser) }}

// maxPooledStack keeps an occasional huge container from pinning memory.
const maxPooledStack = 1 << 14

// release returns p to the pool without references to the values it read.
func (p *parser) release() {
	p.src = nil
	if cap(p.stack) > maxPooledStack || cap(p.dstack) > maxPooledStack || cap(p.scratch) > maxPooledBuf {
		return
	}
	clear(p.stack[:cap(p.stack)])
	clear(p.dstack[:cap(p.dstack)])
	parsers.Put(p)
}

type parser struct {
	src     []byte
	pos     int
	depth   int // open brackets; inside them a newline is whitespace
	scratch []byte
	// The items of the containers being read, innermost last: each container
	// is copied out once, at its exact size, when it closes.
	stack  []wire.Value
	dstack []wire.DictItem
	// floatClass is set when a {'__class__': 'float'} dict was read.
	floatClass bool
}

// litKind tells literal_eval's rules apart: only an unsigned number may take
// a unary sign, and only real+imaginary forms a binary + or -.
type litKind uint8

const (
	litOther   litKind = iota
	litNumber          // an int, float or imaginary constant
	litSigned          // a number with one unary sign
	litSetName         // the bare name set, which postfix accepts only in set()
)

// leadingLines skips the blank and comment lines before the value and
// returns the indentation of the line it starts on.
func (p *parser) leadingLines() (col int) {
	// literal_eval strips leading spaces and tabs; a later first line must
	// not be indented, as in Python.
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t':
			col++
		case '\f': // a form feed resets the indentation count
			col = 0
		case '\n':
			col = 0
		case '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
			continue
		case '\\': // a line continuation
			if p.pos+1 >= len(p.src) || p.src[p.pos+1] != '\n' {
				return col
			}
			p.pos++
		default:
			return col
		}
		p.pos++
	}
	return col
}

func (p *parser) document() (wire.Value, error) {
	col := p.leadingLines()
	if p.pos >= len(p.src) {
		return nil, p.errorf("no value in the data")
	}
	if col > 0 {
		return nil, p.errorf("unexpected indent")
	}
	v, _, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.peek() == ',' {
		if v, err = p.tupleTail(v, 0); err != nil {
			return nil, err
		}
	}
	for {
		p.ws()
		if p.pos >= len(p.src) {
			if p.floatClass {
				return recreateFloats(v)
			}
			return v, nil
		}
		if p.src[p.pos] != '\n' {
			return nil, p.unexpected("the end of the data")
		}
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// ws skips blanks, comments and line continuations, and newlines when inside
// brackets.
func (p *parser) ws() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\f':
			p.pos++
		case '\n':
			if p.depth == 0 {
				return
			}
			p.pos++
		case '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case '\\':
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n' {
				p.pos += 2
				continue
			}
			return
		default:
			return
		}
	}
}

func (p *parser) errorf(format string, a ...any) error {
	return p.errorAt(p.pos, format, a...)
}

func (p *parser) errorAt(pos int, format string, a ...any) error {
	line, col := 1, 1
	for i := 0; i < pos && i < len(p.src); i++ {
		if p.src[i] == '\n' {
			line, col = line+1, 1
		} else if p.src[i]&0xc0 != 0x80 {
			col++
		}
	}
	return codecErr("line %d col %d (offset %d): %s", line, col, pos, fmt.Sprintf(format, a...))
}

func (p *parser) unexpected(want string) error {
	if p.pos >= len(p.src) {
		return p.errorf("unexpected end of data, expected %s", want)
	}
	r, _ := utf8.DecodeRune(p.src[p.pos:])
	if r == '\n' {
		return p.errorf("unexpected end of line, expected %s", want)
	}
	return p.errorf("unexpected %q, expected %s", r, want)
}

// enter consumes an opening bracket.
func (p *parser) enter() error {
	if p.depth >= wire.MaxDepth {
		return p.errorf("nesting deeper than %d levels", wire.MaxDepth)
	}
	p.pos++
	p.depth++
	return nil
}

// leave consumes a closing bracket.
func (p *parser) leave() {
	p.pos++
	p.depth--
}

// expr reads one expression without a top-level comma: a unary expression,
// or the real+imaginary sum literal_eval allows for complex numbers.
func (p *parser) expr() (wire.Value, litKind, error) {
	v, k, err := p.unary()
	if err != nil {
		return nil, k, err
	}
	for {
		p.ws()
		op := p.peek()
		if op != '+' && op != '-' {
			return v, k, nil
		}
		opPos := p.pos
		p.pos++
		p.ws()
		r, rk, err := p.unary()
		if err != nil {
			return nil, rk, err
		}
		if v, err = p.complexSum(v, k, op, r, rk, opPos); err != nil {
			return nil, k, err
		}
		k = litOther
	}
}

func (p *parser) complexSum(l wire.Value, lk litKind, op byte, r wire.Value, rk litKind, opPos int) (wire.Value, error) {
	rc, rok := r.(complex128)
	if (lk != litNumber && lk != litSigned) || rk != litNumber || !rok {
		return nil, p.errorAt(opPos, "operator %c is a literal only between a real number and an imaginary number", op)
	}
	var lf float64
	switch x := l.(type) {
	case int64:
		lf = float64(x)
	case *big.Int:
		lf, _ = new(big.Float).SetInt(x).Float64()
		if math.IsInf(lf, 0) {
			return nil, p.errorAt(opPos, "int too large to convert to float")
		}
	case float64:
		lf = x
	default:
		return nil, p.errorAt(opPos, "operator %c is a literal only between a real number and an imaginary number", op)
	}
	if op == '+' {
		return complex(lf+real(rc), 0+imag(rc)), nil
	}
	return complex(lf-real(rc), 0-imag(rc)), nil
}

func (p *parser) unary() (wire.Value, litKind, error) {
	sign := p.peek()
	if sign != '+' && sign != '-' {
		return p.postfix()
	}
	signPos := p.pos
	p.pos++
	p.ws()
	if c := p.peek(); c == '+' || c == '-' {
		return nil, litOther, p.errorf("a repeated unary sign is not a literal")
	}
	v, k, err := p.postfix()
	if err != nil {
		return nil, k, err
	}
	if k != litNumber {
		return nil, k, p.errorAt(signPos, "unary %c applies only to a number, not to %s", sign, wire.TypeName(v))
	}
	if sign == '-' {
		switch x := v.(type) {
		case int64:
			v = -x
		case *big.Int:
			v = wire.Int(new(big.Int).Neg(x))
		case float64:
			v = -x
		case complex128:
			v = -x
		}
	}
	return v, litSigned, nil
}

// postfix reads an atom and refuses the calls, subscripts and attribute
// accesses that may follow one, except the call in set().
func (p *parser) postfix() (wire.Value, litKind, error) {
	v, k, err := p.atom()
	if err != nil {
		return nil, k, err
	}
	p.ws()
	switch p.peek() {
	case '(':
		if k != litSetName {
			return nil, k, p.errorf("a call is not a literal")
		}
		if err := p.enter(); err != nil {
			return nil, k, err
		}
		p.ws()
		if p.peek() != ')' {
			return nil, k, p.errorf("set() with arguments is not a literal")
		}
		p.leave()
		return wire.Set{}, litOther, nil
	case '[':
		return nil, k, p.errorf("a subscript is not a literal")
	case '.':
		return nil, k, p.errorf("an attribute is not a literal")
	}
	if k == litSetName {
		return nil, k, p.errorf("name 'set' is not a literal")
	}
	return v, k, nil
}

func (p *parser) atom() (wire.Value, litKind, error) {
	c := p.peek()
	switch {
	case c == '(':
		return p.parens()
	case c == '[':
		v, err := p.list()
		return v, litOther, err
	case c == '{':
		v, err := p.braces()
		return v, litOther, err
	case c == '\'' || c == '"':
		v, err := p.stringAtom()
		return v, litOther, err
	case c >= '0' && c <= '9':
		return p.number()
	case c == '.':
		if p.pos+1 < len(p.src) && digit(p.src[p.pos+1]) {
			return p.number()
		}
		if bytes.HasPrefix(p.src[p.pos:], []byte("...")) {
			return nil, litOther, p.errorf("Ellipsis is not supported")
		}
	case identStart(c):
		return p.name()
	}
	return nil, litOther, p.unexpected("a value")
}

func (p *parser) name() (wire.Value, litKind, error) {
	start := p.pos
	for p.pos < len(p.src) && identChar(p.src[p.pos]) {
		p.pos++
	}
	word := p.src[start:p.pos]
	if c := p.peek(); (c == '\'' || c == '"') && len(word) <= 2 {
		end := p.pos
		p.pos = start
		if p.atString() {
			v, err := p.stringAtom()
			return v, litOther, err
		}
		p.pos = end
	}
	switch string(word) { // compiled without a conversion
	case "None":
		return nil, litOther, nil
	case "True":
		return true, litOther, nil
	case "False":
		return false, litOther, nil
	case "set":
		return nil, litSetName, nil
	}
	return nil, litOther, p.errorAt(start, "name %q is not a literal", word)
}
