package codectest

import (
	"bytes"
	"math"
	"math/big"

	"github.com/pyro4/pyro4/wire"
)

// SameValue is strict structural equality: same types, same order, floats by
// bits except that any NaN matches any NaN.
func SameValue(a, b wire.Value) bool { return sameValue(a, b, false) }

// SameValueAnyOrder is SameValue with sets in any order.
func SameValueAnyOrder(a, b wire.Value) bool { return sameValue(a, b, true) }

// sameValue is strict equality for tests: same types, dict items in the same
// order, floats by bits (any NaN equals any NaN, -0.0 differs from 0.0), set
// members in the same order unless setsAnyOrder.
func sameValue(a, b wire.Value, setsAnyOrder bool) bool {
	same := func(a, b wire.Value) bool { return sameValue(a, b, setsAnyOrder) }
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool, int64, string:
		return a == b
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case float64:
		y, ok := b.(float64)
		return ok && sameFloat(x, y)
	case complex128:
		y, ok := b.(complex128)
		return ok && sameFloat(real(x), real(y)) && sameFloat(imag(x), imag(y))
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case wire.Tuple:
		y, ok := b.(wire.Tuple)
		return ok && sameSeq(x, y, same)
	case wire.List:
		y, ok := b.(wire.List)
		return ok && sameSeq(x, y, same)
	case wire.Set:
		y, ok := b.(wire.Set)
		if setsAnyOrder {
			return ok && sameMembers(x, y, same)
		}
		return ok && sameSeq(x, y, same)
	case *wire.Dict:
		y, ok := b.(*wire.Dict)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for i := range x.Items {
			if !same(x.Items[i].Key, y.Items[i].Key) || !same(x.Items[i].Value, y.Items[i].Value) {
				return false
			}
		}
		return true
	}
	return false
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

func sameSeq(a, b []wire.Value, same func(a, b wire.Value) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !same(a[i], b[i]) {
			return false
		}
	}
	return true
}

// sameMembers matches every member of a with its own member of b.
func sameMembers(a, b []wire.Value, same func(a, b wire.Value) bool) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
next:
	for _, it := range a {
		for j := range b {
			if !used[j] && same(it, b[j]) {
				used[j] = true
				continue next
			}
		}
		return false
	}
	return true
}

// DictOf builds a dict from alternating keys and values.
func DictOf(kv ...wire.Value) *wire.Dict {
	d := wire.NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		d.Append(kv[i], kv[i+1])
	}
	return d
}

func BigInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("bad big int " + s)
	}
	return n
}

func URIValue(s string) wire.Value {
	u, err := wire.ParseURI(s)
	if err != nil {
		panic(err)
	}
	return u.Value()
}

func StrList(s []string) wire.List {
	l := make(wire.List, len(s))
	for i, x := range s {
		l[i] = x
	}
	return l
}

// MustParseURI parses a URI the test knows to be valid.
func MustParseURI(s string) wire.URI {
	u, err := wire.ParseURI(s)
	if err != nil {
		panic(err)
	}
	return u
}

// GoldenProxy is the proxy of the gen scripts' "proxy" cases.
func GoldenProxy(uri string) wire.Proxy {
	return wire.Proxy{URI: MustParseURI(uri), Oneway: []string{"shutdown"}, Methods: []string{"ping"}, Attrs: []string{"name"},
		Timeout: 2.5, HMACKey: []byte("secret"), Handshake: DictOf("token", int64(42)), MaxRetries: 3, Serializer: "json"}
}

// DefaultProxy is a proxy as Pyro4.core.Proxy(uri) makes it.
func DefaultProxy(uri string) wire.Proxy {
	return wire.Proxy{URI: MustParseURI(uri), Handshake: "hello"}
}
