package wire

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// cgFuzzRoundTrip is the property every decoder fuzz target checks: no
// panic, and whatever decodes re-encodes and decodes to the same value.
func cgFuzzRoundTrip(t *testing.T, codec string, data []byte) {
	c := cgCodecFor(t, codec)
	_, _ = c.UnmarshalCall(data)
	v, err := c.Unmarshal(data)
	if err != nil {
		return
	}
	enc, err := c.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %s but cannot encode it: %v", Repr(v), err)
	}
	back, err := c.Unmarshal(enc)
	if err != nil {
		t.Fatalf("cannot decode our encoding %q of %s: %v", enc, Repr(v), err)
	}
	if !cgSameValue(v, back) {
		t.Fatalf("round trip changed the value:\n got %s\nwant %s", Repr(back), Repr(v))
	}
}

// cgFuzzSeeds adds the golden vectors of codec to f.
func cgFuzzSeeds(f *testing.F, codec string) {
	files, err := filepath.Glob(filepath.Join(cgGoldenCodecsDir, codec, "*.bin"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no golden files for %s: %v", codec, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

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
		if _, err := c.MarshalCall(cgBenchLookup); err != nil {
			b.Fatal(err)
		}
	}
}

func cgBenchDecodeLookupCall(b *testing.B, codec string) {
	c := cgCodecFor(b, codec)
	data, err := c.MarshalCall(cgBenchLookup)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.UnmarshalCall(data); err != nil {
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
