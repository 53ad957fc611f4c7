package pickle

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"sort"
	"strings"

	"github.com/pyro4/pyro4/wire"
)

// The unpickler runs the pickle machine over objects of its own (pk* types):
// lists, dicts and sets are mutable and shared through the memo, so APPENDS
// or SETITEMS after a GET must be seen by every holder. After STOP the result
// is converted into the value model (convert.go).

type listObj struct{ items []any }

type tupleObj struct {
	items []any
	key   string // hash key, computed once
	keyed bool
}

type dictObj struct {
	keys  []any
	vals  []any
	strs  map[string]int // str keys need no hashing: a str only equals a str
	other map[string]int // hashKey of every other key
}

type setObj struct {
	items  []any
	seen   map[string]bool
	frozen bool
	key    string
	keyed  bool
}

// instance is an instance of one of the classes the unpickler may build.
type instance struct {
	class string // "Pyro4.core.URI", "Pyro4.errors.NamingError", "builtins.ValueError", wrapperClass
	args  []any  // exception args
	state any    // URI state sequence or the wrapped exception, nil until BUILD
	attrs *dictObj
}

// classRef is an allowed global, pushed by GLOBAL or STACK_GLOBAL.
type classRef struct{ module, name string }

func (c classRef) String() string { return c.module + "." + c.name }

type unpickler struct {
	data   []byte
	pos    int
	stack  []any
	marks  []int
	memo   map[int]any
	work   int
	budget int
}

func decode(data []byte) (wire.Value, error) {
	u := &unpickler{data: data, memo: map[int]any{}, budget: wire.NodeBudget(len(data)), stack: make([]any, 0, 16)}
	res, err := u.run()
	if err != nil {
		return nil, err
	}
	c := converter{done: map[any]converted{}, budget: u.budget}
	return c.convert(res, 0)
}

func (u *unpickler) errorf(format string, a ...any) error {
	return wire.CodecError("pickle", format, a...)
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
	k, err := hashKey(v, depth)
	if err != nil {
		return "", err
	}
	return k, u.charge(1 + len(k)/8)
}

func hashKey(v any, depth int) (string, error) {
	if depth > wire.MaxDepth {
		return "", wire.CodecError("pickle", "key nested deeper than %d", wire.MaxDepth)
	}
	switch x := v.(type) {
	case *tupleObj:
		if !x.keyed {
			var b strings.Builder
			b.WriteByte('(')
			for _, it := range x.items {
				k, err := hashKey(it, depth+1)
				if err != nil {
					return "", err
				}
				wire.WriteKeyPart(&b, k)
			}
			b.WriteByte(')')
			x.key, x.keyed = b.String(), true
		}
		return x.key, nil
	case *setObj:
		if !x.frozen {
			return "", wire.CodecError("pickle", "unhashable type: 'set'")
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
				wire.WriteKeyPart(&b, p)
			}
			b.WriteByte('}')
			x.key, x.keyed = b.String(), true
		}
		return x.key, nil
	case *listObj:
		return "", wire.CodecError("pickle", "unhashable type: 'list'")
	case *dictObj:
		return "", wire.CodecError("pickle", "unhashable type: 'dict'")
	case *instance, classRef:
		return "", wire.CodecError("pickle", "%s objects are not supported as keys", typeName(v))
	}
	k, ok := wire.PyKey(v)
	if !ok {
		return "", wire.CodecError("pickle", "unhashable type: '%s'", wire.TypeName(v))
	}
	return k, nil
}

func typeName(v any) string {
	switch x := v.(type) {
	case *listObj:
		return "list"
	case *tupleObj:
		return "tuple"
	case *dictObj:
		return "dict"
	case *setObj:
		if x.frozen {
			return "frozenset"
		}
		return "set"
	case *instance:
		return x.class
	case classRef:
		return "class " + x.String()
	}
	return wire.TypeName(v)
}

func (u *unpickler) setItem(d *dictObj, k, v any) error {
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

func (u *unpickler) addItem(s *setObj, v any) error {
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

func newDictObj() *dictObj { return &dictObj{strs: map[string]int{}} }

func newSetObj(frozen bool) *setObj { return &setObj{seen: map[string]bool{}, frozen: frozen} }

// parseINT reads the text of an INT opcode as CPython's _pickle does: C's
// strtol with base 0 first (so "010" is octal 8, "0x1f" hex, and a
// two-character "00" or "01", " 1" or "-0" is a bool), and Python's
// int(text, 0) where strtol overflows or stops early.
func parseINT(s string) (wire.Value, bool) {
	if n, ok := cStrtol0(s); ok {
		if len(s) == 2 && (n == 0 || n == 1) {
			return n == 1, true
		}
		return n, true
	}
	v, _, ok := pyIntBase0(s)
	return v, ok
}

// cSpace is what C's isspace and CPython's Py_ISSPACE call whitespace.
const cSpace = " \t\n\v\f\r"

// cStrtol0 is C's strtol(s, &end, 0) for a 64-bit long; ok is false when it
// overflows or does not end at the end of s.
func cStrtol0(s string) (int64, bool) {
	i := len(s) - len(strings.TrimLeft(s, cSpace))
	neg := i < len(s) && s[i] == '-'
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	base := uint64(10)
	if i < len(s) && s[i] == '0' {
		base = 8
		if i+2 < len(s) && s[i+1]|0x20 == 'x' && digitValue(s[i+2]) < 16 {
			base, i = 16, i+2
		}
	}
	start := i
	var u uint64
	for ; i < len(s); i++ {
		d := uint64(digitValue(s[i]))
		if d >= base {
			break
		}
		if u > (math.MaxUint64-d)/base {
			return 0, false
		}
		u = u*base + d
	}
	if i == start || i != len(s) || u > math.MaxInt64+1 || u == math.MaxInt64+1 && !neg {
		return 0, false
	}
	if neg {
		return -int64(u), true // 1<<63 wraps to MinInt64, which is its negation
	}
	return int64(u), true
}

// pyIntBase0 is Python's int(s, 0) on the bytes of s: whitespace around, a
// sign, then a 0x, 0o or 0b prefix and digits of that base, or decimal
// digits without a leading zero (unless all are zeros), with single
// underscores between digits; at most 4300 decimal digits. base is the
// base Python names when it refuses s.
func pyIntBase0(s string) (v wire.Value, base int, ok bool) {
	s = strings.Trim(s, cSpace)
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	base = 10
	if len(s) >= 2 && s[0] == '0' {
		switch s[1] | 0x20 {
		case 'x':
			base = 16
		case 'o':
			base = 8
		case 'b':
			base = 2
		}
		if base != 10 {
			s = strings.TrimPrefix(s[2:], "_")
		}
	}
	digits, ok := pyDigits(s, base)
	if !ok || base == 10 && len(digits) > wire.MaxIntDigits {
		return nil, base, false
	}
	if base == 10 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
		return nil, 0, false // an old-style octal literal
	}
	x, _ := new(big.Int).SetString(digits, base)
	if neg {
		x.Neg(x)
	}
	return wire.Int(x), base, true
}

// pyDigits checks the digits of an int literal in base, with single
// underscores between them, and returns them without the underscores.
func pyDigits(s string, base int) (string, bool) {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '_' && digitValue(s[i]) >= base {
			return "", false
		}
	}
	return strings.ReplaceAll(s, "_", ""), true
}

// digitValue is the value of an ASCII digit or letter in bases up to 36,
// and 36 for any other byte.
func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return int(c|0x20-'a') + 10
	}
	return 36
}

// decodeLong reads LONG1/LONG4 data: little-endian two's complement.
func decodeLong(b []byte) wire.Value {
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
	return wire.Int(x)
}

func validStr(b []byte) (string, error) {
	if !wire.ValidStrBytes(b) {
		// Python decodes with surrogatepass: a surrogate's three bytes are
		// kept as they are (see wire.AppendCodePoint), anything else fails.
		return "", wire.CodecError("pickle", "str is not valid UTF-8")
	}
	return string(b), nil
}
