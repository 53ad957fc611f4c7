package wire

import (
	"fmt"
	"math"
	"math/big"
)

// Value is a Python value as it crosses the wire. The dynamic type is one of:
//
//	nil          None
//	bool         bool
//	int64        int that fits in 64 bits
//	*big.Int     any larger int (never one that fits in int64)
//	float64      float, including ±inf and nan
//	complex128   complex
//	string       str
//	[]byte       bytes and bytearray
//	Tuple        tuple
//	List         list
//	Set          set and frozenset
//	*Dict        dict, keys in the order they were read or built
//
// Class instances travel as dicts with a "__class__" key (see URI.Value,
// Proxy.Value and Exception.Value); codecs leave those as plain *Dict values,
// and UnmarshalCall refuses a call whose arguments hold one Pyro4 would
// refuse (classes.go).
type Value = any

// Tuple is a Python tuple.
type Tuple []Value

// List is a Python list.
type List []Value

// Set is a Python set. Order is not significant; codecs keep what they read.
type Set []Value

// Dict is a Python dict. It keeps insertion order because Python does, and
// because golden-vector tests compare encodings byte for byte. Lookups are
// linear: the dicts on the name server's request path are small, and the big
// ones (list results) are only ever built and encoded, never searched.
type Dict struct {
	Items []DictItem
}

// DictItem is one key/value pair of a Dict.
type DictItem struct {
	Key   Value
	Value Value
}

// NewDict returns an empty dict with room for n items.
func NewDict(n int) *Dict { return &Dict{Items: make([]DictItem, 0, n)} }

// Len returns the number of items.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.Items)
}

// Set stores v under k, replacing an existing equal key as Python would.
func (d *Dict) Set(k, v Value) {
	for i := range d.Items {
		if Equal(d.Items[i].Key, k) {
			d.Items[i].Value = v
			return
		}
	}
	d.Items = append(d.Items, DictItem{k, v})
}

// Append adds a pair without checking for a duplicate key. Decoders use it
// after they have established that keys are distinct, and builders of large
// results use it because their keys are distinct by construction.
func (d *Dict) Append(k, v Value) { d.Items = append(d.Items, DictItem{k, v}) }

// Get returns the value stored under k.
func (d *Dict) Get(k Value) (Value, bool) {
	if d == nil {
		return nil, false
	}
	for _, it := range d.Items {
		if Equal(it.Key, k) {
			return it.Value, true
		}
	}
	return nil, false
}

// GetString returns the value under the str key k.
func (d *Dict) GetString(k string) (Value, bool) {
	if d == nil {
		return nil, false
	}
	for _, it := range d.Items {
		if s, ok := it.Key.(string); ok && s == k {
			return it.Value, true
		}
	}
	return nil, false
}

// Equal reports whether two values are equal the way Python's == sees them
// for the types of the value model: 1 == 1.0 == True == 1+0j, ints and
// floats compared exactly (2**53+1 != 2.0**53), tuple != list, sets and
// dicts compare without regard to order, nan != nan. Python's containers
// also treat an object as equal to itself, so [x] == [x] holds there for one
// nan object x; values decoded from the wire are distinct objects, and here
// a nan is never equal to anything.
func Equal(a, b Value) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case Tuple:
		y, ok := b.(Tuple)
		return ok && equalSeq(x, y)
	case List:
		y, ok := b.(List)
		return ok && equalSeq(x, y)
	case Set:
		y, ok := b.(Set)
		return ok && equalUnordered(x, y)
	case *Dict:
		y, ok := b.(*Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		if x == nil {
			return true
		}
		for _, it := range x.Items {
			v, ok := y.Get(it.Key)
			if !ok || !Equal(it.Value, v) {
				return false
			}
		}
		return true
	}
	return equalNumber(a, b)
}

func equalSeq(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalUnordered(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for j, y := range b {
			if !used[j] && Equal(x, y) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// equalNumber compares bool, int64, *big.Int, float64 and complex128 as
// Python numbers. A complex equals a real number when its imaginary part is
// zero and its real part equals that number.
func equalNumber(a, b Value) bool {
	if x, ok := a.(int64); ok { // the common case, without allocation
		if y, ok := b.(int64); ok {
			return x == y
		}
	}
	ac, aComplex := a.(complex128)
	bc, bComplex := b.(complex128)
	switch {
	case aComplex && bComplex:
		return ac == bc
	case aComplex:
		if imag(ac) != 0 || !isNumber(b) {
			return false
		}
		a = real(ac)
	case bComplex:
		if imag(bc) != 0 || !isNumber(a) {
			return false
		}
		b = real(bc)
	}
	af, aFloat := a.(float64)
	bf, bFloat := b.(float64)
	ai, aInt := toBig(a)
	bi, bInt := toBig(b)
	switch {
	case aFloat && bFloat:
		return af == bf
	case aInt && bInt:
		return ai.Cmp(bi) == 0
	case aInt && bFloat:
		return intEqualsFloat(ai, bf)
	case aFloat && bInt:
		return intEqualsFloat(bi, af)
	}
	return false
}

func isNumber(v Value) bool {
	switch v.(type) {
	case bool, int64, *big.Int, float64, complex128:
		return true
	}
	return false
}

// intEqualsFloat compares exactly, as Python does, rather than through a
// rounding conversion of the int.
func intEqualsFloat(i *big.Int, f float64) bool {
	if math.IsInf(f, 0) || math.IsNaN(f) || f != math.Trunc(f) {
		return false
	}
	fi, _ := new(big.Float).SetFloat64(f).Int(nil)
	return fi.Cmp(i) == 0
}

func toBig(v Value) (*big.Int, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case int64:
		return big.NewInt(x), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

// toFloat converts a real number to float64, rounding a big int.
func ToFloat(v Value) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	}
	return 0, false
}

// Truthy is Python's truth test: None, False, zero numbers and empty
// strings, bytes and containers are false; everything else is true.
func Truthy(v Value) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case *big.Int:
		return x.Sign() != 0
	case float64:
		return x != 0
	case complex128:
		return x != 0
	case string:
		return x != ""
	case []byte:
		return len(x) > 0
	case Tuple:
		return len(x) > 0
	case List:
		return len(x) > 0
	case Set:
		return len(x) > 0
	case *Dict:
		return x.Len() > 0
	}
	return true
}

// Int normalises a big integer: it returns an int64 when the value fits.
// Decoders call it so that one number has one representation.
func Int(b *big.Int) Value {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

// TypeName returns the Python type name of v, for error messages that must
// read like Python's ("name must be a str", "unhashable type: 'list'").
func TypeName(v Value) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case complex128:
		return "complex"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case Tuple:
		return "tuple"
	case List:
		return "list"
	case Set:
		return "set"
	case *Dict:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// StrList is ss as a Python list of str; Tuple(StrList(ss)) and
// Set(StrList(ss)) give the other collections.
func StrList(ss []string) List {
	l := make(List, len(ss))
	for i, s := range ss {
		l[i] = s
	}
	return l
}

// sequence returns the items of a tuple or a list, which Pyro4 reads alike
// wherever it unpacks a sequence.
func Sequence(v Value) ([]Value, bool) {
	switch x := v.(type) {
	case Tuple:
		return x, true
	case List:
		return x, true
	}
	return nil, false
}

// Strings returns the members of a list, tuple or set of str, for metadata
// arguments. ok is false when v is not such a collection or holds a non-str.
func Strings(v Value) (out []string, ok bool) {
	var items []Value
	switch x := v.(type) {
	case List:
		items = x
	case Tuple:
		items = x
	case Set:
		items = x
	case *Dict:
		// iterating a dict yields its keys, and Pyro4's set(metadata) does that
		for i := 0; i < x.Len(); i++ {
			it := x.Items[i]
			items = append(items, it.Key)
		}
	default:
		return nil, false
	}
	out = make([]string, 0, len(items))
	for _, it := range items {
		s, isStr := it.(string)
		if !isStr {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
