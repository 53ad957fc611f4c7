package wire

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"testing"
)

// The benchmark payloads: the lookup call every client makes, and a list()
// reply with 1000 registrations.
var cgBenchLookup = Call{Object: "Pyro.NameServer", Method: "lookup", Args: []Value{"example.service.name"}}

func cgBenchList1000() *Dict {
	d := NewDict(1000)
	for i := 0; i < 1000; i++ {
		d.Append(fmt.Sprintf("example.service.%04d", i), fmt.Sprintf("PYRO:obj_%032x@192.168.1.%d:%d", i, i%250, 40000+i))
	}
	return d
}

func cgBenchEncodeLookupCall(b *testing.B, codec string) {
	c := cgCodecFor(b, codec)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := MarshalCall(c, cgBenchLookup); err != nil {
			b.Fatal(err)
		}
	}
}

func cgBenchDecodeLookupCall(b *testing.B, codec string) {
	c := cgCodecFor(b, codec)
	data, err := MarshalCall(c, cgBenchLookup)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := UnmarshalCall(c, data); err != nil {
			b.Fatal(err)
		}
	}
}

func cgBenchEncodeList1000(b *testing.B, codec string) {
	c := cgCodecFor(b, codec)
	v := cgBenchList1000()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func cgBenchDecodeList1000(b *testing.B, codec string) {
	c := cgCodecFor(b, codec)
	data, err := c.Marshal(cgBenchList1000())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}

// cgSameValue is strict structural equality: same types, same order, floats by
// bits except that any NaN matches any NaN.
func cgSameValue(a, b Value) bool { return sameValue(a, b, false) }

// spSame is cgSameValue with sets in any order.
func spSame(a, b Value) bool { return sameValue(a, b, true) }

// sameValue is strict equality for tests: same types, dict items in the same
// order, floats by bits (any NaN equals any NaN, -0.0 differs from 0.0), set
// members in the same order unless setsAnyOrder.
func sameValue(a, b Value, setsAnyOrder bool) bool {
	same := func(a, b Value) bool { return sameValue(a, b, setsAnyOrder) }
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
	case Tuple:
		y, ok := b.(Tuple)
		return ok && sameSeq(x, y, same)
	case List:
		y, ok := b.(List)
		return ok && sameSeq(x, y, same)
	case Set:
		y, ok := b.(Set)
		if setsAnyOrder {
			return ok && sameMembers(x, y, same)
		}
		return ok && sameSeq(x, y, same)
	case *Dict:
		y, ok := b.(*Dict)
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

func sameSeq(a, b []Value, same func(a, b Value) bool) bool {
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
func sameMembers(a, b []Value, same func(a, b Value) bool) bool {
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

// dictOf builds a dict from alternating keys and values.
func dictOf(kv ...Value) *Dict {
	d := NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		d.Append(kv[i], kv[i+1])
	}
	return d
}

func bigInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("bad big int " + s)
	}
	return n
}

func uriValue(s string) Value {
	u, err := ParseURI(s)
	if err != nil {
		panic(err)
	}
	return u.Value()
}

func strList(s []string) List {
	l := make(List, len(s))
	for i, x := range s {
		l[i] = x
	}
	return l
}
