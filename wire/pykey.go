package wire

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// This file holds Python's key equality as the decoders need it: building
// dicts and sets the way Python does (equal keys collapse: 1, 1.0 and True
// are one key, the last value wins and the first key stays; unhashable keys
// are refused).

// nanSerial makes every NaN key distinct: Python finds dict keys by identity
// first, and two NaN objects read from the wire are never the same object.
var nanSerial atomic.Uint64

// PyKey returns a string that is the same for two values exactly when Python
// would treat them as the same dict key or set member. ok is false for an
// unhashable value (list, dict; sets count as frozensets).
func PyKey(v Value) (key string, ok bool) {
	var b strings.Builder
	if !writePyKey(&b, v, 0) {
		return "", false
	}
	return b.String(), true
}

func writePyKey(b *strings.Builder, v Value, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch x := v.(type) {
	case nil:
		b.WriteByte('N')
	case bool:
		if x {
			b.WriteString("i1")
		} else {
			b.WriteString("i0")
		}
	case int64:
		b.WriteByte('i')
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteByte('i')
		b.WriteString(x.String())
	case float64:
		writeFloatKey(b, x)
	case complex128:
		if imag(x) == 0 {
			writeFloatKey(b, real(x))
			return true
		}
		if math.IsNaN(real(x)) || math.IsNaN(imag(x)) {
			fmt.Fprintf(b, "nan#%d", nanSerial.Add(1))
			return true
		}
		b.WriteByte('c')
		b.WriteString(strconv.FormatFloat(real(x), 'g', -1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(imag(x), 'g', -1, 64))
	case string:
		b.WriteByte('s')
		WriteKeyPart(b, x)
	case []byte:
		b.WriteByte('b')
		WriteKeyPart(b, string(x))
	case Tuple:
		b.WriteByte('(')
		for _, it := range x {
			var sub strings.Builder
			if !writePyKey(&sub, it, depth+1) {
				return false
			}
			WriteKeyPart(b, sub.String())
		}
		b.WriteByte(')')
	case Set:
		parts := make([]string, 0, len(x))
		seen := make(map[string]bool, len(x))
		for _, it := range x {
			var sub strings.Builder
			if !writePyKey(&sub, it, depth+1) {
				return false
			}
			if k := sub.String(); !seen[k] {
				seen[k] = true
				parts = append(parts, k)
			}
		}
		sort.Strings(parts)
		b.WriteByte('{')
		for _, p := range parts {
			WriteKeyPart(b, p)
		}
		b.WriteByte('}')
	default:
		return false
	}
	return true
}

// WriteKeyPart writes a length-prefixed part so that nested keys never run
// into each other.
func WriteKeyPart(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

func writeFloatKey(b *strings.Builder, f float64) {
	switch {
	case math.IsNaN(f):
		fmt.Fprintf(b, "nan#%d", nanSerial.Add(1))
	case math.IsInf(f, 0):
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case f == math.Trunc(f):
		// an integral float equals the int of the same value
		bf := new(big.Float).SetFloat64(f)
		i, _ := bf.Int(nil)
		b.WriteByte('i')
		b.WriteString(i.String())
	default:
		b.WriteByte('f')
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	}
}

// DictBuilder fills a Dict with Python's assignment semantics while keeping
// lookups constant-time, so a hostile payload with many keys stays linear.
// A str key can only ever equal another str, so str keys get their own index
// and need no hashing.
type DictBuilder struct {
	d     *Dict
	strs  map[string]int
	other map[string]int
}

// NewDictBuilder returns a builder for a dict of about n items.
func NewDictBuilder(n int) DictBuilder {
	return DictBuilder{d: NewDict(n)}
}

// Dict returns the dict built so far.
func (b *DictBuilder) Dict() *Dict { return b.d }

// Put stores v under k, as d[k] = v does. It returns false when k is
// unhashable.
func (b *DictBuilder) Put(k, v Value) bool {
	if s, ok := k.(string); ok {
		if i, dup := b.findStr(s); dup {
			b.d.Items[i].Value = v
			return true
		}
		if b.strs != nil {
			b.strs[s] = len(b.d.Items)
		}
		b.d.Items = append(b.d.Items, DictItem{k, v})
		return true
	}
	key, ok := PyKey(k)
	if !ok {
		return false
	}
	if b.other == nil {
		b.other = map[string]int{}
	}
	if i, dup := b.other[key]; dup {
		b.d.Items[i].Value = v
		return true
	}
	b.other[key] = len(b.d.Items)
	b.d.Items = append(b.d.Items, DictItem{k, v})
	return true
}

// findStr finds a str key: by scanning while the dict is small (calls and
// handshakes), through an index once it grows.
func (b *DictBuilder) findStr(s string) (int, bool) {
	if b.strs == nil {
		if len(b.d.Items) < 8 {
			for i := range b.d.Items {
				if ks, isStr := b.d.Items[i].Key.(string); isStr && ks == s {
					return i, true
				}
			}
			return 0, false
		}
		b.strs = make(map[string]int, 2*len(b.d.Items))
		for i, it := range b.d.Items {
			if ks, isStr := it.Key.(string); isStr {
				b.strs[ks] = i
			}
		}
	}
	i, ok := b.strs[s]
	return i, ok
}

// SetBuilder collects set members, dropping duplicates as Python's set does.
type SetBuilder struct {
	s    Set
	seen map[string]bool
}

// NewSetBuilder returns a builder for a set of about n members.
func NewSetBuilder(n int) SetBuilder {
	return SetBuilder{s: make(Set, 0, n), seen: make(map[string]bool, n)}
}

// Set returns the members collected so far.
func (b *SetBuilder) Set() Set { return b.s }

// Add adds v unless an equal member is there. It returns false when v is
// unhashable.
func (b *SetBuilder) Add(v Value) bool {
	key, ok := PyKey(v)
	if !ok {
		return false
	}
	if !b.seen[key] {
		b.seen[key] = true
		b.s = append(b.s, v)
	}
	return true
}

// UnhashableDecoded names the type that makes v unhashable in Python, ""
// when v is hashable, for a value as it was decoded, before Pyro4 turns
// class dicts into objects: every Dict counts as a dict, a Set as a set (a
// frozenset is rare on the wire), and in a tuple the first such member,
// depth first, is named, as hash() finds it.
func UnhashableDecoded(v Value) string {
	switch x := v.(type) {
	case List, Set, *Dict:
		return TypeName(v)
	case Tuple:
		for _, it := range x {
			if t := UnhashableDecoded(it); t != "" {
				return t
			}
		}
	}
	return ""
}
