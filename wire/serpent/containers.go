package serpent

import (
	"github.com/pyro4/pyro4/wire"
)

// The containers of a serpent document: tuples, lists, sets and dicts, whose
// items are read onto the parser's stack and copied out when they close.

// push adds an item of the container being read.
func (p *parser) push(v wire.Value) {
	p.stack = append(p.stack, v)
}

// popItems returns the items pushed since base as a slice of their own, of
// exact size: the stack stays with the pooled parser.
func (p *parser) popItems(base int) []wire.Value {
	items := make([]wire.Value, len(p.stack)-base)
	copy(items, p.stack[base:])
	p.stack = p.stack[:base]
	return items
}

// pushItem adds an item of the dict being read.
func (p *parser) pushItem(k, v wire.Value) {
	p.dstack = append(p.dstack, wire.DictItem{Key: k, Value: v})
}

// popDict returns the items pushed since base as a dict, as popItems does.
func (p *parser) popDict(base int) *wire.Dict {
	d := &wire.Dict{Items: make([]wire.DictItem, len(p.dstack)-base)}
	copy(d.Items, p.dstack[base:])
	p.dstack = p.dstack[:base]
	return d
}

// parens reads a parenthesized expression or a tuple.
func (p *parser) parens() (wire.Value, litKind, error) {
	if err := p.enter(); err != nil {
		return nil, litOther, err
	}
	p.ws()
	if p.peek() == ')' {
		p.leave()
		return wire.Tuple{}, litOther, nil
	}
	v, k, err := p.expr()
	if err != nil {
		return nil, k, err
	}
	p.ws()
	if p.peek() == ',' {
		if v, err = p.tupleTail(v, ')'); err != nil {
			return nil, k, err
		}
		k = litOther
	}
	if p.peek() != ')' {
		return nil, k, p.unexpected("',' or ')'")
	}
	p.leave()
	return v, k, nil
}

// tupleTail reads the items after a tuple's first item, from the comma up to
// closer (not consumed) or, at the top level (closer 0), the end of the line.
func (p *parser) tupleTail(first wire.Value, closer byte) (wire.Value, error) {
	base := len(p.stack)
	p.push(first)
	for p.peek() == ',' {
		p.pos++
		p.ws()
		if c := p.peek(); c == closer || (closer == 0 && (c == '\n' || p.pos >= len(p.src))) {
			break
		}
		if err := p.pushExpr(); err != nil {
			return nil, err
		}
	}
	return wire.Tuple(p.popItems(base)), nil
}

// pushExpr reads an item of a tuple or list onto the stack, and the space
// after it.
func (p *parser) pushExpr() error {
	v, _, err := p.expr()
	if err != nil {
		return err
	}
	p.push(v)
	p.ws()
	return nil
}

func (p *parser) list() (wire.Value, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	base := len(p.stack)
	for {
		p.ws()
		if p.peek() == ']' {
			break
		}
		if err := p.pushExpr(); err != nil {
			return nil, err
		}
		if err := p.separator(']'); err != nil {
			return nil, err
		}
	}
	p.leave()
	return wire.List(p.popItems(base)), nil
}

// braces reads a dict or a set.
func (p *parser) braces() (wire.Value, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.ws()
	if p.peek() == '}' {
		p.leave()
		return &wire.Dict{}, nil
	}
	if p.peek() == '*' {
		return nil, p.errorf("unpacking is not a literal")
	}
	keyPos := p.pos
	first, _, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.peek() == ':' {
		return p.dictItems(first, keyPos)
	}
	var idx keyIndex
	base := len(p.stack)
	for {
		if err := hashable(first); err != nil {
			return nil, p.errorAt(keyPos, "%v", err)
		}
		if set := p.stack[base:]; idx.findInSet(set, first) < 0 {
			idx.add(first, len(set))
			p.push(first)
		}
		if err := p.separator('}'); err != nil {
			return nil, err
		}
		if p.peek() == '}' {
			p.leave()
			return wire.Set(p.popItems(base)), nil
		}
		keyPos = p.pos
		if first, _, err = p.expr(); err != nil {
			return nil, err
		}
		p.ws()
	}
}

// separator reads what follows an item of a list, set or dict: a ',' (and
// the space after it) or, left for the caller, closer.
func (p *parser) separator(closer byte) error {
	switch p.peek() {
	case ',':
		p.pos++
		p.ws()
	case closer:
	default:
		return p.unexpected("',' or '" + string(closer) + "'")
	}
	return nil
}

// dictItems reads a dict from its first key on; p.pos is at the first ':'.
// A repeated key keeps its first position and takes the last value, as in
// Python.
func (p *parser) dictItems(key wire.Value, keyPos int) (wire.Value, error) {
	var idx keyIndex
	base := len(p.dstack)
	hasClass := false
	for {
		if err := hashable(key); err != nil {
			return nil, p.errorAt(keyPos, "%v", err)
		}
		p.pos++ // ':'
		p.ws()
		val, _, err := p.expr()
		if err != nil {
			return nil, err
		}
		items := p.dstack[base:]
		if i := idx.findInDict(items, key); i >= 0 {
			items[i].Value = val
		} else {
			idx.add(key, len(items))
			p.pushItem(key, val)
			hasClass = hasClass || key == "__class__"
		}
		p.ws()
		if err := p.separator('}'); err != nil {
			return nil, err
		}
		if p.peek() == '}' {
			break
		}
		if p.peek() == '*' {
			return nil, p.errorf("unpacking is not a literal")
		}
		keyPos = p.pos
		if key, _, err = p.expr(); err != nil {
			return nil, err
		}
		p.ws()
		if p.peek() != ':' {
			return nil, p.unexpected("':'")
		}
	}
	p.leave()
	d := p.popDict(base)
	if hasClass {
		if c, _ := d.GetString("__class__"); c == "float" {
			p.floatClass = true
		}
	}
	return d, nil
}
