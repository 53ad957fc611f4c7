package wire

import (
	"encoding/json"
	"math"
	"math/big"
	"testing"
)

func TestEqualMatchesPython(t *testing.T) {
	for _, c := range loadGoldenValues(t).Equal {
		a, b := taggedValue(t, c[0]), taggedValue(t, c[1])
		var want bool
		if err := jsonUnmarshal(c[2], &want); err != nil {
			t.Fatal(err)
		}
		if got := Equal(a, b); got != want {
			t.Errorf("Equal(%s, %s) = %v, Python: %v", Repr(a), Repr(b), got, want)
		}
		if got := Equal(b, a); got != want {
			t.Errorf("Equal(%s, %s) = %v, Python: %v", Repr(b), Repr(a), got, want)
		}
	}
}

func TestEqual(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 64)
	nan := math.NaN()
	tests := []struct {
		name string
		a, b Value
		want bool
	}{
		{"int float bool", int64(1), 1.0, true},
		{"float bool", 1.0, true, true},
		{"big big", big1, new(big.Int).Set(big1), true},
		{"big float", big1, math.Ldexp(1, 64), true},
		{"big int64", big1, int64(math.MaxInt64), false},
		{"int64 rounds in float", int64(1<<53 + 1), float64(1 << 53), false},
		{"complex int", complex(3, 0), int64(3), true},
		{"complex imag", complex(3, 1), int64(3), false},
		{"complex str", complex(0, 0), "", false},
		{"tuple list", Tuple{int64(1)}, List{int64(1)}, false},
		{"list list", List{int64(1), "a"}, List{1.0, "a"}, true},
		{"set order", Set{"a", "b", int64(1)}, Set{int64(1), "b", "a"}, true},
		{"set multiplicity", Set{int64(1), int64(2)}, Set{int64(1), int64(1)}, false},
		{"dict order", dictOf("a", int64(1), "b", int64(2)), dictOf("b", int64(2), "a", int64(1)), true},
		{"dict value", dictOf("a", int64(1)), dictOf("a", int64(2)), false},
		{"dict nil empty", (*Dict)(nil), NewDict(0), true},
		{"nan", nan, nan, false},
		{"nan in list", List{nan}, List{nan}, false},
		{"inf", math.Inf(1), math.Inf(1), true},
		{"bytes str", []byte("a"), "a", false},
		{"bytes nil empty", []byte(nil), []byte{}, true},
		{"none", nil, nil, true},
		{"none zero", nil, int64(0), false},
		{"none empty dict", nil, (*Dict)(nil), false},
		{"unknown type", 1, 1, false},
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: Equal(%s, %s) = %v", tt.name, Repr(tt.a), Repr(tt.b), got)
		}
		if got := Equal(tt.b, tt.a); got != tt.want {
			t.Errorf("%s reversed: Equal(%s, %s) = %v", tt.name, Repr(tt.b), Repr(tt.a), got)
		}
	}
}

func TestTruthy(t *testing.T) {
	falsy := []Value{nil, false, int64(0), new(big.Int), 0.0, math.Copysign(0, -1), complex(0, 0), "", []byte{},
		Tuple{}, List{}, Set{}, NewDict(0), (*Dict)(nil)}
	truthy := []Value{true, int64(-1), new(big.Int).Lsh(big.NewInt(1), 70), math.NaN(), 0.1, complex(0, 1), " ",
		[]byte{0}, Tuple{nil}, List{nil}, Set{int64(0)}, dictOf(nil, nil)}
	for _, v := range falsy {
		if Truthy(v) {
			t.Errorf("Truthy(%s) = true", Repr(v))
		}
	}
	for _, v := range truthy {
		if !Truthy(v) {
			t.Errorf("Truthy(%s) = false", Repr(v))
		}
	}
}

func TestDict(t *testing.T) {
	d := NewDict(0)
	d.Set("a", int64(1))
	d.Set(int64(1), "one")
	d.Set(true, "true replaces 1") // True == 1 as a dict key
	d.Set("a", int64(2))
	if d.Len() != 2 || Repr(d) != "{'a': 2, 1: 'true replaces 1'}" {
		t.Fatalf("dict %s", Repr(d))
	}
	if v, ok := d.Get(1.0); !ok || v != "true replaces 1" {
		t.Fatalf("Get(1.0) = %v, %v", v, ok)
	}
	if v, ok := d.GetString("a"); !ok || v != int64(2) {
		t.Fatalf("GetString(a) = %v, %v", v, ok)
	}
	if _, ok := d.GetString("b"); ok {
		t.Fatal("GetString found a missing key")
	}
	var nilDict *Dict
	if _, ok := nilDict.Get("a"); ok || nilDict.Len() != 0 {
		t.Fatal("nil dict is not empty")
	}
	if _, ok := nilDict.GetString("a"); ok {
		t.Fatal("nil dict GetString found a key")
	}
}

func TestIntNormalises(t *testing.T) {
	if v := Int(big.NewInt(-5)); v != int64(-5) {
		t.Fatalf("Int(-5) = %#v", v)
	}
	huge := new(big.Int).Lsh(big.NewInt(1), 63)
	if v, ok := Int(huge).(*big.Int); !ok || v.Cmp(huge) != 0 {
		t.Fatalf("Int(2**63) = %#v", Int(huge))
	}
}

func TestTypeName(t *testing.T) {
	tests := map[string]Value{"NoneType": nil, "bool": true, "int": int64(1), "float": 1.0, "complex": 1i, "str": "",
		"bytes": []byte{}, "tuple": Tuple{}, "list": List{}, "set": Set{}, "dict": NewDict(0), "uint8": uint8(1)}
	for want, v := range tests {
		if got := TypeName(v); got != want {
			t.Errorf("TypeName(%#v) = %s, want %s", v, got, want)
		}
	}
	if TypeName(new(big.Int)) != "int" {
		t.Error("big int is not int")
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		v    Value
		want []string
		ok   bool
	}{
		{List{"a", "b"}, []string{"a", "b"}, true},
		{Tuple{"a"}, []string{"a"}, true},
		{Set{}, []string{}, true},
		{dictOf("k1", int64(1), "k2", int64(2)), []string{"k1", "k2"}, true},
		{List{"a", int64(1)}, nil, false},
		{"abc", nil, false},
		{nil, nil, false},
	}
	for _, tt := range tests {
		got, ok := Strings(tt.v)
		if ok != tt.ok || Repr(strList(got)) != Repr(strList(tt.want)) {
			t.Errorf("Strings(%s) = %q, %v", Repr(tt.v), got, ok)
		}
	}
}

func BenchmarkEqual(b *testing.B) {
	x := dictOf("name", "example.greeting", "uri", "PYRO:obj@127.0.0.1:9999", "meta", Set{"a", "b"}, "n", int64(3))
	y := dictOf("n", 3.0, "meta", Set{"b", "a"}, "uri", "PYRO:obj@127.0.0.1:9999", "name", "example.greeting")
	b.ReportAllocs()
	for b.Loop() {
		if !Equal(x, y) {
			b.Fatal("not equal")
		}
	}
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
