package persist

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestBoltOrderSurvivesRestart reopens a store after a history of writes:
// the order is the file's, not the process's.
func TestBoltOrderSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.db")
	s := openBolt(t, path)
	mustPut(t, s, Entry{Name: "Pyro.NameServer", URI: "u"}, Entry{Name: "z", URI: "u"},
		Entry{Name: "b", URI: "u"}, Entry{Name: "a", URI: "u"})
	if err := s.SetMetadata("z", []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete("b"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, Entry{Name: "b", URI: "u2"})
	want := []string{"Pyro.NameServer", "z", "a", "b"}
	if got := rangeNames(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("before restart: %q, want %q", got, want)
	}
	s.Close()

	s = openBolt(t, path)
	defer s.Close()
	if got := rangeNames(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("after restart: %q, want %q", got, want)
	}
	// The name server overwrites its own entry at start: it stays first.
	mustPut(t, s, Entry{Name: "Pyro.NameServer", URI: "new"}, Entry{Name: "c", URI: "u"})
	want = append(want, "c")
	if got := rangeNames(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("after more writes: %q, want %q", got, want)
	}
}

// writeV1Store builds a file in format version 1 (no order) by hand, as the
// previous release wrote it: the names are put in the order given.
func writeV1Store(t *testing.T, path string, entries []Entry) {
	t.Helper()
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		names, err := tx.CreateBucket(namesBucket)
		if err != nil {
			return err
		}
		for _, e := range entries {
			// version 1 | len(uri) uri | count | items
			v := []byte{recordVersion1}
			v = binary.AppendUvarint(v, uint64(len(e.URI)))
			v = append(v, e.URI...)
			v = binary.AppendUvarint(v, uint64(len(e.Metadata)))
			for _, m := range e.Metadata {
				v = binary.AppendUvarint(v, uint64(len(m)))
				v = append(v, m...)
			}
			if err := names.Put(nameKey(e.Name), v); err != nil {
				return err
			}
		}
		if err := meta.Put(formatKey, formatMarker); err != nil {
			return err
		}
		if err := meta.Put(versionKey, binary.AppendUvarint(nil, 1)); err != nil {
			return err
		}
		return meta.Put(countKey, binary.BigEndian.AppendUint64(nil, uint64(len(entries))))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBoltUpgradesVersion1 opens a file of the previous format: every entry
// is kept, listed in name order (the only order that file had), once; new
// names go after them, and the upgrade is not repeated at the next open.
func TestBoltUpgradesVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.db")
	var old []Entry
	for _, n := range []string{"zeta", "Pyro.NameServer", "", "alpha", "日本", "m.2", "m.1"} {
		old = append(old, Entry{Name: n, URI: "PYRO:" + n + "@h:1", Metadata: []string{"a:" + n, "b"}})
	}
	// More than one chunk of the upgrade.
	for i := range upgradeChunk + 10 {
		old = append(old, Entry{Name: benchName(i/1000, i%1000), URI: "u"})
	}
	writeV1Store(t, path, old)
	sorted := make([]string, 0, len(old))
	for _, e := range old {
		sorted = append(sorted, e.Name)
	}
	slices.Sort(sorted)

	s := openBolt(t, path)
	if got := rangeNames(t, s, ""); !slices.Equal(got, sorted) {
		t.Fatalf("upgraded store lists %d names %q..., want the %d in name order", len(got), got[:min(5, len(got))], len(sorted))
	}
	wantCount(t, s, len(old))
	for _, e := range old[:7] {
		e.Metadata = NormalizeMetadata(e.Metadata)
		wantEntry(t, s, e)
	}
	mustPut(t, s, Entry{Name: "aaa", URI: "u"}, Entry{Name: "zeta", URI: "new"})
	s.Close()

	s = openBolt(t, path)
	defer s.Close()
	want := append(slices.Clone(sorted), "aaa")
	if got := rangeNames(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("after reopening: %d names, want %d in name order then aaa", len(got), len(want))
	}
	if got, w := rangeNames(t, s, "m."), []string{"m.1", "m.2"}; !slices.Equal(got, w) {
		t.Fatalf("Range(m.) = %q, want %q", got, w)
	}
	wantEntry(t, s, Entry{Name: "zeta", URI: "new"})
}
