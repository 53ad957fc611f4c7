package persist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// churnedStore writes a store of n names through separate commits and
// removes every hundredth, so that it has branch pages, many leaves and a free
// list, as a store a server has used does.
func churnedStore(t *testing.T, n int) string {
	t.Helper()
	path := makeStore(t, t.TempDir(), n)
	s := openBolt(t, path)
	defer s.Close()
	for i := 0; i < n; i += 100 {
		if _, err := s.Delete(fmt.Sprintf("name.%06d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// pagesOf lists the page ids of the store by bbolt's own view of each
// page's type, and gives the page size.
func pagesOf(t *testing.T, path string) (map[string][]int, int) {
	t.Helper()
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pages := map[string][]int{}
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			typ := p.Type
			if typ == "leaf" && p.Count > 3 && firstKeyByte(t, path, id, db.Info().PageSize) == keyPrefix {
				// not the root bucket's leaf (three buckets) nor one of the
				// order bucket's (keys are sequence numbers)
				typ = "names leaf"
			}
			pages[typ] = append(pages[typ], id)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages, db.Info().PageSize
}

// firstKeyByte is the first byte of the first key on leaf page id.
func firstKeyByte(t *testing.T, path string, id, ps int) byte {
	t.Helper()
	b := readAt(t, path, int64(id*ps), ps)
	pos := int(binary.NativeEndian.Uint32(b[pageHeaderSize+4:]))
	if pageHeaderSize+pos >= len(b) {
		return 0
	}
	return b[pageHeaderSize+pos]
}

func patch(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func u64(v uint64) []byte { return binary.NativeEndian.AppendUint64(nil, v) }
func u16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }

// TestBoltCheckRefusesDamage damages one page of a used store in each of
// the ways the check looks for: OpenBolt refuses the file as damaged,
// saying what it found, and leaves it byte for byte as it was.
func TestBoltCheckRefusesDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, pages map[string][]int, ps int)
		want   string
	}{
		{"a leaf's page id overwritten", func(t *testing.T, path string, pages map[string][]int, ps int) {
			patch(t, path, int64(pages["names leaf"][3]*ps), u64(0xffffffff))
		}, "holds the header of page 4294967295"},
		{"a leaf's type overwritten", func(t *testing.T, path string, pages map[string][]int, ps int) {
			patch(t, path, int64(pages["names leaf"][1]*ps+8), u16(0x40))
		}, "in the tree but has type 0x40"},
		{"a branch points past the file", func(t *testing.T, path string, pages map[string][]int, ps int) {
			patch(t, path, int64(pages["branch"][0]*ps+pageHeaderSize+8), u64(1<<40))
		}, "outside the"},
		{"a branch points at a free page", func(t *testing.T, path string, pages map[string][]int, ps int) {
			patch(t, path, int64(pages["branch"][0]*ps+pageHeaderSize+8), u64(uint64(pages["free"][0])))
		}, ""},
		{"an element beyond its page", func(t *testing.T, path string, pages map[string][]int, ps int) {
			patch(t, path, int64(pages["names leaf"][2]*ps+pageHeaderSize+4), []byte{0xff, 0xff, 0, 0})
		}, "lies outside the page"},
		{"keys out of order", func(t *testing.T, path string, pages map[string][]int, ps int) {
			// the second key's first byte made the lowest there is
			b := readAt(t, path, int64(pages["names leaf"][2]*ps), ps)
			e := pageHeaderSize + elementSize
			pos := binary.NativeEndian.Uint32(b[e+4:])
			patch(t, path, int64(pages["names leaf"][2]*ps+e+int(pos)), []byte{0})
		}, "out of order"},
		{"a page missing from the free list", func(t *testing.T, path string, pages map[string][]int, ps int) {
			id := pages["freelist"][0]
			b := readAt(t, path, int64(id*ps), ps)
			n := binary.NativeEndian.Uint16(b[10:])
			patch(t, path, int64(id*ps+10), u16(n-1))
		}, "neither in use nor free"},
		{"the name count", func(t *testing.T, path string, pages map[string][]int, ps int) {
			db, err := bolt.Open(path, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(metaBucket).Put(countKey, binary.BigEndian.AppendUint64(nil, 5))
			}); err != nil {
				t.Fatal(err)
			}
		}, "records 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := churnedStore(t, 3001)
			pages, ps := pagesOf(t, path)
			if len(pages["names leaf"]) < 4 || len(pages["branch"]) == 0 || len(pages["free"]) == 0 || len(pages["freelist"]) == 0 {
				t.Fatalf("store without the pages the test damages: %v", pages)
			}
			tt.damage(t, path, pages, ps)
			before := snapshot(t, path)
			s, err := OpenBolt(path, BoltOptions{})
			if err == nil {
				s.Close()
				t.Fatal("damaged store opened")
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "left untouched") {
				t.Fatalf("error %q, want ErrDamaged saying %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "assertion") {
				t.Errorf("error %q carries bbolt's assertion text", err)
			}
			after := snapshot(t, path)
			if !bytes.Equal(before.data, after.data) || !before.mtime.Equal(after.mtime) {
				t.Error("the refused file was changed")
			}
		})
	}
}

func readAt(t *testing.T, path string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBoltCheckAcceptsHealthy: stores as the server leaves them pass.
func TestBoltCheckAcceptsHealthy(t *testing.T) {
	for _, path := range []string{
		makeStore(t, t.TempDir(), 0),
		makeStore(t, t.TempDir(), 1),
		makeStore(t, t.TempDir(), 20000),
		churnedStore(t, 3001),
	} {
		s, err := OpenBolt(path, BoltOptions{})
		if err != nil {
			t.Fatalf("healthy store refused: %v", err)
		}
		s.Close()
	}
	// a new store, and one with long values on overflow pages
	path := filepath.Join(t.TempDir(), "ns.db")
	s := openBolt(t, path)
	mustPut(t, s, Entry{Name: "big", URI: "PYRO:x@h:1", Metadata: []string{strings.Repeat("m", 20000)}})
	s.Close()
	s = openBolt(t, path)
	s.Close()
}

// TestBoltDamageWhileServing damages a leaf under an open store: the calls
// that reach it fail with a plain damaged error, never bbolt's assertion
// text and never a panic.
func TestBoltDamageWhileServing(t *testing.T) {
	path := churnedStore(t, 3001)
	pages, ps := pagesOf(t, path)
	s := openBolt(t, path)
	defer s.Close()
	patch(t, path, int64(pages["names leaf"][0]*ps), u64(0xdeadbeef))
	err := s.Range("", func(Entry) bool { return true })
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Range: %v, want ErrDamaged", err)
	}
	if strings.Contains(err.Error(), "assertion") || !strings.Contains(err.Error(), "does not hold the page the tree points to") {
		t.Errorf("Range error %q: want plain words, not bbolt's assertion", err)
	}
}

// BenchmarkBoltCheck is the consistency check of a store of 1M names
// (Department.ServerNNNNNNN, a 40-byte URI, one tag): the cost OpenBolt
// adds at start-up, against bbolt's own Tx.Check of the same file.
func BenchmarkBoltCheck(b *testing.B) {
	path := filepath.Join(b.TempDir(), "ns.db")
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 1_000_000
	for start := 0; start < n; start += 100_000 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := start; i < start+100_000; i++ {
				if err := putOp(Entry{Name: fmt.Sprintf("Department.Server%07d", i), URI: "PYRO:obj_0123456789abcdef@10.0.0.5:51851", Metadata: []string{"class:archive"}}, false)(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	fi, _ := os.Stat(path)
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.Run("walk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := db.View(func(tx *bolt.Tx) error { return checkPages(path, tx) }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
	})
	b.Run("bbolt-Tx.Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := db.View(func(tx *bolt.Tx) error {
				for err := range tx.Check() {
					return err
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzBoltCheck patches bytes into the data pages of a small used store
// (its meta pages stay valid, so the walk is what meets the damage) and
// opens it: OpenBolt must refuse it or open it, never crash, and a store it
// opens must read through without a fault.
func FuzzBoltCheck(f *testing.F) {
	path := filepath.Join(f.TempDir(), "ns.db")
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 300 {
		if err := s.Put(Entry{Name: fmt.Sprintf("n%04d", i), URI: "PYRO:o@h:1", Metadata: []string{"m"}}); err != nil {
			f.Fatal(err)
		}
		if i%7 == 0 {
			if _, err := s.Delete(fmt.Sprintf("n%04d", i/2)); err != nil {
				f.Fatal(err)
			}
		}
	}
	s.Close()
	base, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	const ps = 4096
	f.Add(uint32(0), []byte{0xff})
	f.Add(uint32(ps+8), []byte{0x01, 0x00})
	f.Add(uint32(16), []byte{0xff, 0xff, 0, 0, 0, 0, 0, 0})
	f.Add(uint32(2*ps+24), []byte{0x10, 0, 0, 0})
	f.Fuzz(func(t *testing.T, off uint32, patch []byte) {
		data := bytes.Clone(base)
		at := 2*ps + int(off)%(len(data)-2*ps)
		copy(data[at:], patch)
		p := filepath.Join(t.TempDir(), "ns.db")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenBolt(p, BoltOptions{})
		if err != nil {
			if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrNotStore) {
				t.Fatalf("refused with %v, want ErrDamaged", err)
			}
			if strings.Contains(err.Error(), "assertion") {
				t.Fatalf("error with bbolt's assertion text: %v", err)
			}
			return
		}
		defer s.Close()
		err = s.Range("", func(Entry) bool { return true })
		if err != nil && !errors.Is(err, ErrDamaged) {
			t.Fatalf("Range on a store the check passed: %v", err)
		}
		var fault faultError
		if errors.As(err, &fault) {
			t.Fatalf("bbolt faulted on a store the check passed: %v", err)
		}
	})
}
