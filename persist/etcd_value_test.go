package persist

import (
	"errors"
	"slices"
	"testing"
)

func TestEtcdValue(t *testing.T) {
	good := []struct {
		uri string
		md  []string
	}{
		{"PYRO:obj@localhost:9090", nil},
		{"", nil},
		{"PYRO:x@h:1", []string{"", "a", "β"}},
		{"u\x00v", []string{"\xff"}},
	}
	for _, tt := range good {
		uri, md, err := decodeEtcdValue(encodeEtcdValue(tt.uri, tt.md))
		if err != nil || uri != tt.uri || !slices.Equal(md, tt.md) {
			t.Errorf("round trip of %q %q = %q %q, %v", tt.uri, tt.md, uri, md, err)
		}
	}
	bad := map[string][]byte{
		"empty":           {},
		"other version":   {2, 0, 0},
		"json":            []byte(`{"uri":"x"}`),
		"short uri":       {1, 5, 'a'},
		"no count":        {1, 1, 'a'},
		"count too large": {1, 0, 200},
		"unsorted":        {1, 0, 2, 1, 'b', 1, 'a'},
		"duplicate":       {1, 0, 2, 1, 'a', 1, 'a'},
		"trailing":        {1, 0, 0, 'x'},
		"bad varint":      {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	for name, b := range bad {
		if _, _, err := decodeEtcdValue(b); !errors.Is(err, errEtcdValue) {
			t.Errorf("%s: %v, want errEtcdValue", name, err)
		}
	}
}

func FuzzDecodeEtcdValue(f *testing.F) {
	f.Add(encodeEtcdValue("PYRO:obj@h:1", []string{"a", "b"}))
	f.Add([]byte{1, 0, 0})
	f.Add([]byte{1, 0, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		uri, md, err := decodeEtcdValue(b)
		if err != nil {
			return
		}
		if !slices.IsSorted(md) || len(slices.Compact(slices.Clone(md))) != len(md) {
			t.Fatalf("decoded metadata %q not sorted and distinct", md)
		}
		// Lengths may come as non-minimal varints; what they say survives.
		uri2, md2, err := decodeEtcdValue(encodeEtcdValue(uri, md))
		if err != nil || uri2 != uri || !slices.Equal(md2, md) {
			t.Fatalf("re-encoding %x: %q %q, %v; want %q %q", b, uri2, md2, err, uri, md)
		}
	})
}
