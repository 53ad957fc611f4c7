package wire

import (
	"fmt"
	"testing"
)

var spLookupCall = Call{Object: spNSName, Method: "lookup", Args: []Value{"example.greeting"}}

// spList1000 is a list() result as the name server returns it: 1,000
// names mapped to URI strings.
func spList1000() *Dict {
	d := NewDict(1000)
	for i := 0; i < 1000; i++ {
		d.Append(fmt.Sprintf("example.service.%04d", i), fmt.Sprintf("PYRO:obj_%032x@127.0.0.1:%d", i*7919, 40000+i))
	}
	return d
}

func BenchmarkSerpentEncodeLookupCall(b *testing.B) {
	codec := serpentCodec{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.MarshalCall(spLookupCall); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSerpentDecodeLookupCall(b *testing.B) {
	codec := serpentCodec{}
	data, err := codec.MarshalCall(spLookupCall)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.UnmarshalCall(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSerpentEncodeList1000(b *testing.B) {
	codec := serpentCodec{}
	d := spList1000()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSerpentDecodeList1000(b *testing.B) {
	codec := serpentCodec{}
	data, err := codec.Marshal(spList1000())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}
