package codectest

import (
	"fmt"
	"testing"

	"github.com/pyro4/pyro4/wire"
)

// The benchmark payloads: the lookup call every client makes, and a list()
// reply with 1000 registrations.
var BenchLookup = wire.Call{Object: "Pyro.NameServer", Method: "lookup", Args: []wire.Value{"example.service.name"}}

func BenchList1000() *wire.Dict {
	d := wire.NewDict(1000)
	for i := 0; i < 1000; i++ {
		d.Append(fmt.Sprintf("example.service.%04d", i), fmt.Sprintf("PYRO:obj_%032x@192.168.1.%d:%d", i, i%250, 40000+i))
	}
	return d
}

func BenchEncodeLookupCall(b *testing.B, codec string) {
	c := CodecFor(b, codec)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := wire.MarshalCall(c, BenchLookup); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchDecodeLookupCall(b *testing.B, codec string) {
	c := CodecFor(b, codec)
	data, err := wire.MarshalCall(c, BenchLookup)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := wire.UnmarshalCall(c, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchEncodeList1000(b *testing.B, codec string) {
	c := CodecFor(b, codec)
	v := BenchList1000()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchDecodeList1000(b *testing.B, codec string) {
	c := CodecFor(b, codec)
	data, err := c.Marshal(BenchList1000())
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
