package persist

import (
	"errors"
	"slices"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		uri string
		md  []string
	}{
		{"", nil},
		{"PYRO:obj@localhost:9090", nil},
		{"PYRO:obj@./u:/tmp/sock", []string{"a"}},
		{"PYRO:x@h:1", []string{"", "class:Pyro4.naming.NameServer", "日本", "\xff"}},
	}
	for _, tt := range tests {
		for _, seq := range []uint64{0, 1, 1 << 40} {
			r, err := decodeRecord(encodeRecord(seq, tt.uri, tt.md))
			if err != nil || r.seq != seq || r.uri != tt.uri || !slices.Equal(r.md, tt.md) {
				t.Errorf("round trip of %d %q %q = %+v %v", seq, tt.uri, tt.md, r, err)
			}
		}
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"other version", []byte{3, 0, 0}},
		{"no seq", []byte{2}},
		{"no uri length", []byte{1}},
		{"v2 no uri length", []byte{2, 7}},
		{"uri past end", []byte{1, 5, 'a'}},
		{"no count", []byte{1, 1, 'a'}},
		{"count past end", []byte{1, 0, 200, 1}},
		{"huge count", []byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"item past end", []byte{1, 0, 1, 3, 'a'}},
		{"unsorted", []byte{1, 0, 2, 1, 'b', 1, 'a'}},
		{"duplicate", []byte{1, 0, 2, 1, 'a', 1, 'a'}},
		{"trailing", []byte{1, 0, 0, 0}},
		{"overlong varint", []byte{1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
	}
	for _, tt := range tests {
		if _, err := decodeRecord(tt.in); !errors.Is(err, errRecord) {
			t.Errorf("%s: decodeRecord(%x) error = %v", tt.name, tt.in, err)
		}
	}
}

// FuzzDecodeRecord feeds arbitrary bytes (as a damaged file could hold) to
// the decoder: it must return an error or a record that encodes back to a
// value decoding to the same record, and never panic.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(1, "PYRO:obj@localhost:9090", nil))
	f.Add(encodeRecord(300, "PYRO:x@h:1", []string{"a", "b"}))
	f.Add([]byte{1, 0, 2, 1, 'b', 1, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		r2, err := decodeRecord(encodeRecord(r.seq, r.uri, r.md))
		if err != nil || r2.seq != r.seq || r2.uri != r.uri || !slices.Equal(r.md, r2.md) {
			t.Fatalf("re-encoding %+v gives %+v %v", r, r2, err)
		}
	})
}
