package wire

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The unpickler runs the pickle machine over objects of its own (pk* types):
// lists, dicts and sets are mutable and shared through the memo, so APPENDS
// or SETITEMS after a GET must be seen by every holder. After STOP the result
// is converted into the value model (pickle_convert.go).

type pkList struct{ items []any }

type pkTuple struct {
	items []any
	key   string // hash key, computed once
	keyed bool
}

type pkDict struct {
	keys  []any
	vals  []any
	strs  map[string]int // str keys need no hashing: a str only equals a str
	other map[string]int // pkKey of every other key
}

type pkSet struct {
	items  []any
	seen   map[string]bool
	frozen bool
	key    string
	keyed  bool
}

// pkObj is an instance of one of the classes the unpickler may build.
type pkObj struct {
	class string // "Pyro4.core.URI", "Pyro4.errors.NamingError", "builtins.ValueError", wrapperClass
	args  []any  // exception args
	state any    // URI state sequence or the wrapped exception, nil until BUILD
	attrs *pkDict
}

// pkClass is an allowed global, pushed by GLOBAL or STACK_GLOBAL.
type pkClass struct{ module, name string }

func (c pkClass) String() string { return c.module + "." + c.name }

type unpickler struct {
	data   []byte
	pos    int
	stack  []any
	marks  []int
	memo   map[int]any
	work   int
	budget int
}

func decodePickle(data []byte) (Value, error) {
	u := &unpickler{data: data, memo: map[int]any{}, budget: nodeBudget(len(data)), stack: make([]any, 0, 16)}
	res, err := u.run()
	if err != nil {
		return nil, err
	}
	c := pkConverter{done: map[any]pkConverted{}, budget: u.budget}
	return c.convert(res, 0)
}

func (u *unpickler) errorf(format string, a ...any) error {
	return codecErr("pickle", format, a...)
}

func (u *unpickler) charge(n int) error {
	u.work += n
	if u.work > u.budget {
		return u.errorf("payload expands beyond %d units", u.budget)
	}
	return nil
}

func (u *unpickler) run() (any, error) {
	for u.pos < len(u.data) {
		op := u.data[u.pos]
		u.pos++
		if op == opStop {
			return u.pop()
		}
		if err := u.step(op); err != nil {
			return nil, err
		}
	}
	return nil, u.errorf("pickle data was truncated")
}

// --- reading the byte stream ---

func (u *unpickler) take(n uint64) ([]byte, error) {
	if n > uint64(len(u.data)-u.pos) {
		return nil, u.errorf("pickle data was truncated")
	}
	b := u.data[u.pos : u.pos+int(n)]
	u.pos += int(n)
	return b, nil
}

func (u *unpickler) uint(size int) (uint64, error) {
	b, err := u.take(uint64(size))
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// counted reads a length of size bytes and then that many bytes.
func (u *unpickler) counted(size int) ([]byte, error) {
	n, err := u.uint(size)
	if err != nil {
		return nil, err
	}
	return u.take(n)
}

func (u *unpickler) line() (string, error) {
	i := bytes.IndexByte(u.data[u.pos:], '\n')
	if i < 0 {
		return "", u.errorf("pickle data was truncated")
	}
	s := string(u.data[u.pos : u.pos+i])
	u.pos += i + 1
	return s, nil
}

// --- the stack ---

func (u *unpickler) floor() int {
	if len(u.marks) == 0 {
		return 0
	}
	return u.marks[len(u.marks)-1]
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, u.errorf("unpickling stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

// pop2 pops the top two items, returned in stack order.
func (u *unpickler) pop2() (below, top any, err error) {
	if len(u.stack)-2 < u.floor() {
		return nil, nil, u.errorf("unpickling stack underflow")
	}
	below, top = u.stack[len(u.stack)-2], u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-2]
	return below, top, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, u.errorf("unpickling stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, u.errorf("could not find MARK")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) memoPut(idx uint64) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	if idx > math.MaxInt32 {
		return u.errorf("memo index %d out of range", idx)
	}
	u.memo[int(idx)] = v
	return nil
}

func (u *unpickler) memoGet(idx uint64) error {
	v, ok := u.memo[int(min(idx, math.MaxInt32+1))]
	if !ok {
		return u.errorf("memo value not found at index %d", idx)
	}
	u.push(v)
	return nil
}

// --- hashing (dict keys and set members) ---

func (u *unpickler) key(v any, depth int) (string, error) {
	k, err := pkKey(v, depth)
	if err != nil {
		return "", err
	}
	return k, u.charge(1 + len(k)/8)
}

func pkKey(v any, depth int) (string, error) {
	if depth > MaxDepth {
		return "", codecErr("pickle", "key nested deeper than %d", MaxDepth)
	}
	switch x := v.(type) {
	case *pkTuple:
		if !x.keyed {
			var b strings.Builder
			b.WriteByte('(')
			for _, it := range x.items {
				k, err := pkKey(it, depth+1)
				if err != nil {
					return "", err
				}
				writeKeyPart(&b, k)
			}
			b.WriteByte(')')
			x.key, x.keyed = b.String(), true
		}
		return x.key, nil
	case *pkSet:
		if !x.frozen {
			return "", codecErr("pickle", "unhashable type: 'set'")
		}
		if !x.keyed {
			parts := make([]string, 0, len(x.items))
			for k := range x.seen {
				parts = append(parts, k)
			}
			sort.Strings(parts)
			var b strings.Builder
			b.WriteByte('{')
			for _, p := range parts {
				writeKeyPart(&b, p)
			}
			b.WriteByte('}')
			x.key, x.keyed = b.String(), true
		}
		return x.key, nil
	case *pkList:
		return "", codecErr("pickle", "unhashable type: 'list'")
	case *pkDict:
		return "", codecErr("pickle", "unhashable type: 'dict'")
	case *pkObj, pkClass:
		return "", codecErr("pickle", "%s objects are not supported as keys", pkTypeName(v))
	}
	k, ok := pyKey(v)
	if !ok {
		return "", codecErr("pickle", "unhashable type: '%s'", TypeName(v))
	}
	return k, nil
}

func pkTypeName(v any) string {
	switch x := v.(type) {
	case *pkList:
		return "list"
	case *pkTuple:
		return "tuple"
	case *pkDict:
		return "dict"
	case *pkSet:
		if x.frozen {
			return "frozenset"
		}
		return "set"
	case *pkObj:
		return x.class
	case pkClass:
		return "class " + x.String()
	}
	return TypeName(v)
}

func (u *unpickler) setItem(d *pkDict, k, v any) error {
	index, key := d.strs, ""
	if s, ok := k.(string); ok {
		key = s
		if err := u.charge(1 + len(s)/8); err != nil {
			return err
		}
	} else {
		var err error
		if key, err = u.key(k, 0); err != nil {
			return err
		}
		if d.other == nil {
			d.other = map[string]int{}
		}
		index = d.other
	}
	if i, dup := index[key]; dup {
		d.vals[i] = v
		return nil
	}
	index[key] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

func (u *unpickler) addItem(s *pkSet, v any) error {
	key, err := u.key(v, 0)
	if err != nil {
		return err
	}
	if !s.seen[key] {
		s.seen[key] = true
		s.items = append(s.items, v)
	}
	return nil
}

func newPkDict() *pkDict { return &pkDict{strs: map[string]int{}} }

func newPkSet(frozen bool) *pkSet { return &pkSet{seen: map[string]bool{}, frozen: frozen} }

// parseIntText reads the argument of the text INT and LONG opcodes.
func parseIntText(s string) (Value, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if len(s) > jsonMaxIntDigits+1 || strings.Contains(s, "_") {
		return nil, false
	}
	x, ok := new(big.Int).SetString(strings.TrimPrefix(s, "+"), 10)
	if !ok {
		return nil, false
	}
	return Int(x), true
}

// decodeLong reads LONG1/LONG4 data: little-endian two's complement.
func decodeLong(b []byte) Value {
	if len(b) == 0 {
		return int64(0)
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	x := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return Int(x)
}

func validStr(b []byte) (string, error) {
	if !utf8.Valid(b) {
		// Python decodes with surrogatepass; a Go string cannot hold a surrogate.
		return "", codecErr("pickle", "str is not valid UTF-8")
	}
	return string(b), nil
}
