package marshal

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/pyro4/pyro4/wire"
)

// refSlot is one slot of CPython's reference table. A container's slot is
// reserved before its contents are read, as CPython does, so that indexes
// match; a reference to a slot that is not filled yet (a container that
// contains itself) is refused, because the value model has no cycles.
type refSlot struct {
	v     wire.Value
	size  int // logical node count of v, charged again at every reference
	ready bool
}

type reader struct {
	data   []byte
	pos    int
	refs   []refSlot
	nodes  int
	budget int
}

// decode reads one value the way marshal.loads does; like marshal.loads
// it ignores bytes after the value.
func decode(data []byte) (wire.Value, error) {
	r := &reader{data: data, budget: wire.NodeBudget(len(data))}
	v, null, err := r.object(0)
	if err != nil {
		return nil, err
	}
	if null {
		return nil, wire.CodecError("marshal", "NULL object in marshal data for object")
	}
	return v, nil
}

func (r *reader) errorf(format string, a ...any) error {
	return wire.CodecError("marshal", format, a...)
}

func (r *reader) eof() error { return r.errorf("EOF read where object expected") }

func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.data)-r.pos {
		return nil, r.errorf("marshal data too short")
	}
	b := r.data[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *reader) int32() (int, error) {
	b, err := r.take(4)
	if err != nil {
		return 0, err
	}
	return int(int32(binary.LittleEndian.Uint32(b))), nil
}

// size reads a non-negative int32 length.
func (r *reader) size(what string) (int, error) {
	n, err := r.int32()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, r.errorf("bad marshal data (%s size out of range)", what)
	}
	return n, nil
}

func (r *reader) count(n int) error {
	r.nodes += n
	if r.nodes > r.budget {
		return r.errorf("value expands beyond %d nodes", r.budget)
	}
	return nil
}

// capFor bounds a preallocation by the bytes left: every item takes one.
func (r *reader) capFor(n int) int { return min(n, len(r.data)-r.pos) }

// object reads one object. null reports TYPE_NULL, which ends a dict and is
// an error anywhere else.
func (r *reader) object(depth int) (v wire.Value, null bool, err error) {
	if depth > wire.MaxDepth {
		return nil, false, r.errorf("recursion limit exceeded")
	}
	if r.pos >= len(r.data) {
		return nil, false, r.eof()
	}
	code := r.data[r.pos]
	r.pos++
	flag := code&mFlagRef != 0
	typ := code &^ mFlagRef
	// Singletons are never entered in the reference table, flag or not.
	switch typ {
	case mNull:
		return nil, true, nil
	case mNone:
		return nil, false, r.count(1)
	case mFalse:
		return false, false, r.count(1)
	case mTrue:
		return true, false, r.count(1)
	case mStopIter, mEllipsis:
		return nil, false, r.errorf("StopIteration and Ellipsis are not supported")
	case mRef:
		n, err := r.int32()
		if err != nil {
			return nil, false, err
		}
		if n < 0 || n >= len(r.refs) {
			return nil, false, r.errorf("bad marshal data (invalid reference)")
		}
		ref := r.refs[n]
		if !ref.ready {
			return nil, false, r.errorf("recursive reference to a container is not supported")
		}
		return ref.v, false, r.count(ref.size)
	}
	start := r.nodes
	idx := -1
	if flag {
		idx = len(r.refs)
		r.refs = append(r.refs, refSlot{})
	}
	if err := r.count(1); err != nil {
		return nil, false, err
	}
	if v, err = r.body(typ, depth); err != nil {
		return nil, false, err
	}
	if err := r.count(wire.PayloadCost(v)); err != nil {
		return nil, false, err
	}
	if flag {
		r.refs[idx] = refSlot{v: v, size: r.nodes - start, ready: true}
	}
	return v, false, nil
}

func (r *reader) body(typ byte, depth int) (wire.Value, error) {
	switch typ {
	case mInt:
		n, err := r.int32()
		return int64(n), err
	case mInt64:
		b, err := r.take(8)
		if err != nil {
			return nil, err
		}
		return int64(binary.LittleEndian.Uint64(b)), nil
	case mLong:
		return r.long()
	case mBinaryFloat:
		b, err := r.take(8)
		if err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case mBinaryComplex:
		b, err := r.take(16)
		if err != nil {
			return nil, err
		}
		return complex(math.Float64frombits(binary.LittleEndian.Uint64(b)),
			math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))), nil
	case mFloat:
		return r.textFloat()
	case mComplex:
		re, err := r.textFloat()
		if err != nil {
			return nil, err
		}
		im, err := r.textFloat()
		if err != nil {
			return nil, err
		}
		return complex(re, im), nil
	case mString:
		n, err := r.size("bytes object")
		if err != nil {
			return nil, err
		}
		b, err := r.take(n)
		return append([]byte{}, b...), err
	case mUnicode, mInterned:
		return r.unicode()
	case mASCII, mASCIIInterned, mShortASCII, mShortASCIIIntd:
		return r.ascii(typ == mShortASCII || typ == mShortASCIIIntd)
	case mSmallTuple, mTuple, mList, mSet, mFrozenSet:
		return r.sequence(typ, depth)
	case mDict:
		return r.dict(depth)
	case mCode:
		return nil, r.errorf("code objects are not supported")
	}
	return nil, r.errorf("bad marshal data (unknown type code)")
}

// long reads TYPE_LONG: a signed digit count, then base 2**15 digits.
func (r *reader) long() (wire.Value, error) {
	n, err := r.int32()
	if err != nil {
		return nil, err
	}
	size := n
	if size < 0 {
		size = -size
	}
	digits, err := r.take(2 * size)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return int64(0), nil
	}
	const wbits = 32 << (^uint(0) >> 63)
	words := make([]big.Word, (size*15+wbits-1)/wbits)
	for i := 0; i < size; i++ {
		d := uint(binary.LittleEndian.Uint16(digits[2*i:]))
		if d >= 1<<15 {
			return nil, r.errorf("bad marshal data (digit out of range in long)")
		}
		if i == size-1 && d == 0 {
			return nil, r.errorf("bad marshal data (unnormalized long data)")
		}
		bit := i * 15
		words[bit/wbits] |= big.Word(d << (bit % wbits))
		if spill := bit%wbits + 15 - wbits; spill > 0 {
			words[bit/wbits+1] |= big.Word(d >> (15 - spill))
		}
	}
	x := new(big.Int).SetBits(words)
	if n < 0 {
		x.Neg(x)
	}
	return wire.Int(x), nil
}

// textFloat reads the pre-version-1 float: a length byte and repr text.
func (r *reader) textFloat() (float64, error) {
	if r.pos >= len(r.data) {
		return 0, r.eof()
	}
	n := int(r.data[r.pos])
	r.pos++
	b, err := r.take(n)
	if err != nil {
		return 0, err
	}
	s := string(b)
	// Python's parser takes no hex floats and no underscores; Go's does.
	if strings.ContainsAny(s, "xX_pP") {
		return 0, r.errorf("bad marshal data (invalid float %q)", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !wire.IsRangeError(err) {
		return 0, r.errorf("bad marshal data (invalid float %q)", s)
	}
	return f, nil
}

func (r *reader) unicode() (wire.Value, error) {
	n, err := r.size("unicode")
	if err != nil {
		return nil, err
	}
	b, err := r.take(n)
	if err != nil {
		return nil, err
	}
	if !wire.ValidStrBytes(b) {
		// CPython reads with surrogatepass: a surrogate's three bytes are
		// kept as they are (see wire.AppendCodePoint), anything else fails.
		return nil, r.errorf("str is not valid UTF-8")
	}
	return string(b), nil
}

// ascii reads the ASCII string types; CPython decodes them as Latin-1.
func (r *reader) ascii(short bool) (wire.Value, error) {
	var n int
	if short {
		if r.pos >= len(r.data) {
			return nil, r.eof()
		}
		n = int(r.data[r.pos])
		r.pos++
	} else {
		var err error
		if n, err = r.size("string"); err != nil {
			return nil, err
		}
	}
	b, err := r.take(n)
	if err != nil {
		return nil, err
	}
	return wire.Latin1ToUTF8(b), nil
}

func (r *reader) sequence(typ byte, depth int) (wire.Value, error) {
	var n int
	var err error
	if typ == mSmallTuple {
		if r.pos >= len(r.data) {
			return nil, r.eof()
		}
		n = int(r.data[r.pos])
		r.pos++
	} else if n, err = r.size("container"); err != nil {
		return nil, err
	}
	if typ == mSet || typ == mFrozenSet {
		sb := wire.NewSetBuilder(r.capFor(n))
		for i := 0; i < n; i++ {
			v, err := r.item(depth, "set")
			if err != nil {
				return nil, err
			}
			if !sb.Add(v) {
				return nil, unhashableErr("marshal", v)
			}
		}
		return sb.Set(), nil
	}
	items := make([]wire.Value, 0, r.capFor(n))
	for i := 0; i < n; i++ {
		v, err := r.item(depth, "tuple")
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	if typ == mList {
		return wire.List(items), nil
	}
	return wire.Tuple(items), nil
}

func (r *reader) item(depth int, what string) (wire.Value, error) {
	v, null, err := r.object(depth + 1)
	if err != nil {
		return nil, err
	}
	if null {
		return nil, r.errorf("NULL object in marshal data for %s", what)
	}
	return v, nil
}

// dict reads key/value pairs up to a NULL key. A NULL value ends the dict too
// and drops its key: that is what CPython does.
func (r *reader) dict(depth int) (wire.Value, error) {
	b := wire.NewDictBuilder(4)
	for {
		k, null, err := r.object(depth + 1)
		if err != nil {
			return nil, err
		}
		if null {
			return b.Dict(), nil
		}
		v, null, err := r.object(depth + 1)
		if err != nil {
			return nil, err
		}
		if null {
			return b.Dict(), nil
		}
		if !b.Put(k, v) {
			return nil, unhashableErr("marshal", k)
		}
	}
}

// unhashableErr is Python's message for a list or dict used as a key.
func unhashableErr(name string, v wire.Value) error {
	return wire.CodecError(name, "unhashable type: '%s'", wire.TypeName(v))
}
