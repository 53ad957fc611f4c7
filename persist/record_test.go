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
		uri, md, err := decodeRecord(encodeRecord(tt.uri, tt.md))
		if err != nil || uri != tt.uri || !slices.Equal(md, tt.md) {
			t.Errorf("round trip of %q %q = %q %q %v", tt.uri, tt.md, uri, md, err)
		}
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"other version", []byte{2, 0, 0}},
		{"no uri length", []byte{1}},
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
		if _, _, err := decodeRecord(tt.in); !errors.Is(err, errRecord) {
			t.Errorf("%s: decodeRecord(%x) error = %v", tt.name, tt.in, err)
		}
	}
}

// FuzzDecodeRecord feeds arbitrary bytes (as a damaged file could hold) to
// the decoder: it must return an error or a record that encodes back to a
// value decoding to the same record, and never panic.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord("PYRO:obj@localhost:9090", nil))
	f.Add(encodeRecord("PYRO:x@h:1", []string{"a", "b"}))
	f.Add([]byte{1, 0, 2, 1, 'b', 1, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		uri, md, err := decodeRecord(b)
		if err != nil {
			return
		}
		uri2, md2, err := decodeRecord(encodeRecord(uri, md))
		if err != nil || uri2 != uri || !slices.Equal(md, md2) {
			t.Fatalf("re-encoding %q %q gives %q %q %v", uri, md, uri2, md2, err)
		}
	})
}
