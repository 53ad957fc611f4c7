package persist

import (
	"errors"
	"strings"
	"testing"
)

// TestMemoryNameLengths covers the name lengths where the encoded length
// in a stored entry changes its high byte, and the lookups of names too
// long to store, which must miss rather than misread an entry.
func TestMemoryNameLengths(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	var want []Entry
	for _, n := range []int{0, 1, 255, 256, 257, MaxNameLen} {
		e := Entry{Name: strings.Repeat("n", n), URI: "PYRO:obj@h:" + strings.Repeat("9", n%7+1), Metadata: []string{"b", "a"}}
		if err := m.Put(e); err != nil {
			t.Fatalf("Put(%d bytes): %v", n, err)
		}
		want = append(want, Entry{Name: e.Name, URI: e.URI, Metadata: []string{"a", "b"}})
	}
	for _, w := range want {
		got, ok, err := m.Get(w.Name)
		if !ok || err != nil || got.Name != w.Name || got.URI != w.URI || strings.Join(got.Metadata, ",") != "a,b" {
			t.Errorf("Get(%d bytes) = %d-byte name, %q, %q, %v, %v", len(w.Name), len(got.Name), got.URI, got.Metadata, ok, err)
		}
	}
	i := 0
	if err := m.Range("", func(e Entry) bool {
		if i >= len(want) || e.Name != want[i].Name || e.URI != want[i].URI {
			t.Errorf("Range entry %d: %d-byte name, URI %q", i, len(e.Name), e.URI)
		}
		i++
		return true
	}); err != nil || i != len(want) {
		t.Fatalf("Range visited %d of %d, %v", i, len(want), err)
	}

	tooLong := strings.Repeat("n", MaxNameLen+1)
	if _, ok, err := m.Get(tooLong); ok || err != nil {
		t.Errorf("Get(too long) = %v, %v", ok, err)
	}
	if err := m.SetMetadata(tooLong, []string{"x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetMetadata(too long) = %v, want ErrNotFound", err)
	}
	if ok, err := m.Delete(tooLong); ok || err != nil {
		t.Errorf("Delete(too long) = %v, %v", ok, err)
	}
	if n, _ := m.Count(); n != len(want) {
		t.Errorf("Count() = %d, want %d", n, len(want))
	}
}

// TestMemoryMetadataEmptyIsNil checks that clearing metadata stores nil, so
// entries without metadata never carry an empty set.
func TestMemoryMetadataEmptyIsNil(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	if err := m.Put(Entry{Name: "a", URI: "u", Metadata: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	for _, md := range [][]string{{}, nil} {
		if err := m.SetMetadata("a", md); err != nil {
			t.Fatal(err)
		}
		if e, _, _ := m.Get("a"); e.Metadata != nil || e.URI != "u" {
			t.Errorf("after SetMetadata(%#v): %#v", md, e)
		}
	}
}
