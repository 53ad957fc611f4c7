package persist

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestMemorySnapshot: a snapshot keeps the entries as they were, later
// writes do not show in it, and a write completes while a scan of the
// snapshot is in the middle of its callback.
func TestMemorySnapshot(t *testing.T) {
	m := NewMemory()
	for _, n := range []string{"a", "b", "c"} {
		if err := m.Put(Entry{Name: n, URI: "PYRO:" + n + "@h:1"}); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := m.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	err = snap.Range("", func(e Entry) bool {
		if e.Name == "a" {
			done := make(chan error, 1)
			go func() {
				if err := m.Put(Entry{Name: "d", URI: "PYRO:d@h:1"}); err != nil {
					done <- err
					return
				}
				_, err := m.Delete("c")
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Error(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("a write waited for a scan of a snapshot")
			}
		}
		seen = append(seen, e.Name)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"a", "b", "c"}) {
		t.Errorf("snapshot listed %q, want a b c as they were", seen)
	}
	var now []string
	m.Range("", func(e Entry) bool { now = append(now, e.Name); return true })
	if !slices.Equal(now, []string{"a", "b", "d"}) {
		t.Errorf("store lists %q after the writes, want a b d", now)
	}
	snap.Release()
	if err := snap.Range("", func(Entry) bool { return true }); err != ErrClosed {
		t.Errorf("Range after Release: %v, want ErrClosed", err)
	}
	m.Close()
	if _, err := m.Snapshot(); err != ErrClosed {
		t.Errorf("Snapshot of a closed store: %v, want ErrClosed", err)
	}
}

// TestDeleteUnchanged: only entries still stored as given are removed.
func TestDeleteUnchanged(t *testing.T) {
	stores := map[string]func(t *testing.T) interface {
		Store
		UnchangedDeleter
	}{
		"memory": func(*testing.T) interface {
			Store
			UnchangedDeleter
		} {
			return NewMemory()
		},
		"bolt": func(t *testing.T) interface {
			Store
			UnchangedDeleter
		} {
			b, err := OpenBolt(filepath.Join(t.TempDir(), "ns.db"), BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			given := []Entry{
				{Name: "same", URI: "PYRO:a@h:1", Metadata: []string{"x"}},
				{Name: "new-uri", URI: "PYRO:a@h:1"},
				{Name: "new-meta", URI: "PYRO:a@h:1", Metadata: []string{"x"}},
				{Name: "gone", URI: "PYRO:a@h:1"},
				{Name: "plain", URI: "PYRO:a@h:1"},
			}
			for _, e := range given {
				if err := s.Put(e); err != nil {
					t.Fatal(err)
				}
			}
			s.Put(Entry{Name: "new-uri", URI: "PYRO:b@h:1"})
			s.SetMetadata("new-meta", []string{"y"})
			s.Delete("gone")
			removed, err := s.DeleteUnchanged(given)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(removed, []string{"same", "plain"}) {
				t.Errorf("removed %q, want same and plain", removed)
			}
			if n, _ := s.Count(); n != 2 {
				t.Errorf("count %d after the removal, want 2", n)
			}
			for _, keep := range []string{"new-uri", "new-meta"} {
				if _, ok, _ := s.Get(keep); !ok {
					t.Errorf("%s was changed after the choice and must stay", keep)
				}
			}
		})
	}
}
