package persist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openBolt(t *testing.T, path string) *Bolt {
	t.Helper()
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBoltReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.db")
	s := openBolt(t, path)
	want := []Entry{
		{Name: "", URI: "PYRO:empty@h:1"},
		{Name: "Pyro.NameServer", URI: "PYRO:Pyro.NameServer@localhost:9090", Metadata: []string{"class:Pyro4.naming.NameServer"}},
		{Name: "a.b", URI: "PYRO:ab@h:1", Metadata: []string{"x", "y"}},
		{Name: "日本", URI: "PYRO:jp@h:1"},
	}
	mustPut(t, s, want...)
	mustPut(t, s, Entry{Name: "gone", URI: "u"})
	if _, err := s.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(entries) != 1 {
		t.Fatalf("directory holds %v (%v), want only the store", entries, err)
	}

	s = openBolt(t, path)
	defer s.Close()
	wantCount(t, s, len(want))
	var got []Entry
	if err := s.Range("", func(e Entry) bool { got = append(got, e); return true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("after reopen: %#v, want %#v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].URI != want[i].URI || !slices.Equal(got[i].Metadata, want[i].Metadata) {
			t.Fatalf("after reopen: %#v, want %#v", got[i], want[i])
		}
	}
	wantMissing(t, s, "gone")
}

// TestBoltSecondOpen checks that a locked store is reported at once, with
// a message that says why, rather than waiting for the lock.
func TestBoltSecondOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.db")
	s := openBolt(t, path)
	defer s.Close()
	mustPut(t, s, Entry{Name: "a", URI: "u"})
	done := make(chan error, 1)
	go func() {
		s2, err := OpenBolt(path, BoltOptions{LockTimeout: 50 * time.Millisecond})
		if err == nil {
			s2.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "store "+path+" is in use by another name server") {
			t.Fatalf("second open: %v, want ErrInUse naming the file", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("second open hangs")
	}
	// The first store is unaffected.
	wantEntry(t, s, Entry{Name: "a", URI: "u"})
	mustPut(t, s, Entry{Name: "b", URI: "u"})
}

// TestBoltSyncsCommits checks that the stores the name server opens keep
// bbolt's fsync on commit and on file growth: with either switched off an
// acknowledged write could be lost in a power failure while every other
// test still passed.
func TestBoltSyncsCommits(t *testing.T) {
	dir := t.TempDir()
	direct := openBolt(t, filepath.Join(dir, "direct.db"))
	defer direct.Close()
	opened, err := Open("bolt:" + filepath.Join(dir, "spec.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	for name, s := range map[string]Store{"OpenBolt": direct, "Open(bolt:FILE)": opened} {
		b, ok := s.(*Bolt)
		if !ok {
			t.Fatalf("%s gave %T", name, s)
		}
		// After a write too: nothing on the write path may turn them off.
		mustPut(t, b, Entry{Name: "a", URI: "PYRO:a@h:1"})
		if b.db.NoSync || b.db.NoGrowSync {
			t.Errorf("%s: NoSync %v, NoGrowSync %v; both must be false", name, b.db.NoSync, b.db.NoGrowSync)
		}
	}
}

type fileState struct {
	data  []byte
	mtime time.Time
}

func snapshot(t *testing.T, path string) fileState {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{data, fi.ModTime()}
}

// makeStore writes a store with n entries and returns its path.
func makeStore(t *testing.T, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, "ns.db")
	s := openBolt(t, path)
	defer s.Close()
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			if err := putOp(Entry{Name: fmt.Sprintf("name.%06d", i), URI: "PYRO:obj@host:9999"}, false)(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBoltRefuses opens files that are not usable stores: each is refused
// with an error that says what is wrong, and is left exactly as it was.
func TestBoltRefuses(t *testing.T) {
	tests := []struct {
		name string
		// make creates the file at path.
		make func(t *testing.T, path string)
		want error
		msg  string
	}{
		{"foreign bbolt", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("other"))
				if err != nil {
					return err
				}
				return b.Put([]byte("k"), []byte("v"))
			}); err != nil {
				t.Fatal(err)
			}
		}, ErrNotStore, "without the pyro4 format marker"},
		{"empty bbolt", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, ErrNotStore, "without the pyro4 format marker"},
		{"random bytes", func(t *testing.T, path string) {
			data := make([]byte, 64<<10)
			rand.NewChaCha8([32]byte{1}).Read(data)
			writeFile(t, path, data)
		}, ErrNotStore, "not a bbolt database"},
		{"text", func(t *testing.T, path string) {
			writeFile(t, path, []byte("CREATE TABLE pyro_names(id integer primary key, name nvarchar);\n"))
		}, ErrNotStore, "not a bbolt database"},
		{"sqlite header", func(t *testing.T, path string) {
			writeFile(t, path, append([]byte("SQLite format 3\x00"), make([]byte, 8192)...))
		}, ErrNotStore, "not a bbolt database"},
		// Shorter than bbolt's two meta pages, as a sqlite file of one or two
		// small pages is: bbolt fails on the size before it looks.
		{"short sqlite file", func(t *testing.T, path string) {
			writeFile(t, path, append([]byte("SQLite format 3\x00"), make([]byte, 4096)...))
		}, ErrNotStore, "not a bbolt database"},
		{"1 KB sqlite file", func(t *testing.T, path string) {
			writeFile(t, path, append([]byte("SQLite format 3\x00"), make([]byte, 1024-16)...))
		}, ErrNotStore, "not a bbolt database"},
		{"empty file", func(t *testing.T, path string) {
			writeFile(t, path, nil)
		}, ErrNotStore, "the file is empty"},
		{"truncated store", func(t *testing.T, path string) {
			src := makeStore(t, t.TempDir(), 5000)
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			// Cut below the high-water mark (the file is grown ahead of it).
			writeFile(t, path, data[:liveSize(t, src)/2])
		}, ErrDamaged, "truncated"},
		{"newer format", func(t *testing.T, path string) {
			s := openBolt(t, path)
			s.Close()
			db, err := bolt.Open(path, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(metaBucket).Put(versionKey, binary.AppendUvarint(nil, 3))
			}); err != nil {
				t.Fatal(err)
			}
		}, nil, "has format version 3, this program reads version 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ns.db")
			tt.make(t, path)
			before := snapshot(t, path)
			s, err := OpenBolt(path, BoltOptions{})
			if err == nil {
				s.Close()
				t.Fatal("OpenBolt succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q does not wrap %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "store "+path) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not name the file or say %q", err, tt.msg)
			}
			after := snapshot(t, path)
			if !bytes.Equal(before.data, after.data) || !before.mtime.Equal(after.mtime) {
				t.Error("the refused file was modified")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %v, want only the refused file", entries)
			}
		})
	}
}

// liveSize returns the bytes of path bbolt has in use.
func liveSize(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	_ = db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBoltBadPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeFile(t, file, []byte("x"))
	tests := []struct{ name, path, msg string }{
		{"directory", dir, "not a regular file"},
		{"parent is a file", filepath.Join(file, "ns.db"), file + " is not a directory"},
		{"under a file", filepath.Join(file, "sub", "ns.db"), "directory " + filepath.Join(file, "sub") + ": not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenBolt(tt.path, BoltOptions{})
			if err == nil {
				s.Close()
				t.Fatal("OpenBolt succeeded")
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.msg) || strings.Contains(err.Error(), ".new-") {
				t.Fatalf("error %q does not name %s or say %q (or names a temporary file)", err, tt.path, tt.msg)
			}
		})
	}
}

// TestBoltDamagedRecord plants a value that does not decode: reads and
// updates of it report damage, and the rest of the store still works.
func TestBoltDamagedRecord(t *testing.T) {
	s := openBolt(t, filepath.Join(t.TempDir(), "ns.db"))
	defer s.Close()
	mustPut(t, s, Entry{Name: "bad", URI: "u"}, Entry{Name: "good", URI: "u"})
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(namesBucket).Put(nameKey("bad"), []byte{recordVersion, 200})
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get("bad"); !errors.Is(err, ErrDamaged) {
		t.Errorf("Get: %v, want ErrDamaged", err)
	}
	if err := s.Range("", func(Entry) bool { return true }); !errors.Is(err, ErrDamaged) {
		t.Errorf("Range: %v, want ErrDamaged", err)
	}
	if err := s.SetMetadata("bad", []string{"m"}); !errors.Is(err, ErrDamaged) {
		t.Errorf("SetMetadata: %v, want ErrDamaged", err)
	}
	wantEntry(t, s, Entry{Name: "good", URI: "u"})
	if err := s.Put(Entry{Name: "bad", URI: "fixed"}); err != nil {
		t.Fatal(err)
	}
	wantEntry(t, s, Entry{Name: "bad", URI: "fixed"})
	wantCount(t, s, 2)
}

// TestBoltCorruptPages overwrites the data pages of a store (leaving its
// meta pages intact), before it is opened and while it is open, and checks
// that using it gives errors, not a crash.
func TestBoltCorruptPages(t *testing.T) {
	for _, whileOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("whileOpen=%v", whileOpen), func(t *testing.T) {
			path := makeStore(t, t.TempDir(), 5000)
			size := liveSize(t, path)
			var s *Bolt
			if whileOpen {
				s = openBolt(t, path)
				defer s.Close()
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			junk := make([]byte, size-2*4096)
			rand.NewChaCha8([32]byte{2}).Read(junk)
			if _, err := f.WriteAt(junk, 2*4096); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if !whileOpen {
				s, err = OpenBolt(path, BoltOptions{})
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("OpenBolt: %v, want ErrDamaged", err)
				}
				return
			}
			for _, call := range []func() error{
				func() error { _, _, err := s.Get("name.000001"); return err },
				func() error { return s.Range("", func(Entry) bool { return true }) },
				func() error { return s.Put(Entry{Name: "x", URI: "u"}) },
			} {
				if err := call(); !errors.Is(err, ErrDamaged) {
					t.Errorf("error %v, want ErrDamaged", err)
				}
			}
			// Writes now fail at once, and Close does not wait on bbolt.
			if err := s.Put(Entry{Name: "y", URI: "u"}); !errors.Is(err, ErrDamaged) {
				t.Errorf("Put after damage: %v, want ErrDamaged", err)
			}
			closed := make(chan error, 1)
			go func() { closed <- s.Close() }()
			select {
			case err := <-closed:
				if err != nil {
					t.Errorf("Close: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Close hangs")
			}
		})
	}
}

// TestCommitterIsolatesFailure runs one batch holding a failing op between
// good ones: the failing op's partial write is discarded and it gets its
// own error, the others commit once with correct results even though they
// ran twice.
func TestCommitterIsolatesFailure(t *testing.T) {
	s := openBolt(t, filepath.Join(t.TempDir(), "ns.db"))
	defer s.Close()
	mustPut(t, s, Entry{Name: "old", URI: "u"})
	boom := errors.New("boom")
	var existed bool
	var removed []string
	ops := []func(*bolt.Tx) error{
		putOp(Entry{Name: "a", URI: "u"}, true),
		deleteOp("old", &existed),
		func(tx *bolt.Tx) error {
			if err := putOp(Entry{Name: "half", URI: "u"}, false)(tx); err != nil {
				return err
			}
			return boom
		},
		putOp(Entry{Name: "a", URI: "again"}, true),
		setMetadataOp("missing", nil),
		deleteMatchingOp("a", nil, &removed),
		func(tx *bolt.Tx) error { panic("op panics") },
	}
	batch := make([]*writeOp, len(ops))
	for i, fn := range ops {
		batch[i] = &writeOp{fn: fn, done: make(chan error, 1)}
	}
	s.w.commit(batch, make([]error, len(batch)))
	var errs []error
	for _, op := range batch {
		errs = append(errs, <-op.done)
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], boom) || !errors.Is(errs[3], ErrExists) ||
		!errors.Is(errs[4], ErrNotFound) || errs[5] != nil || !errors.As(errs[6], new(faultError)) {
		t.Fatalf("results %v", errs)
	}
	if !existed || !slices.Equal(removed, []string{"a"}) {
		t.Fatalf("existed=%v removed=%q", existed, removed)
	}
	wantMissing(t, s, "half")
	wantMissing(t, s, "old")
	wantMissing(t, s, "a")
	wantCount(t, s, 0)
	// A panic in an op is a bug in that op, not damage: the store goes on.
	if err := s.w.broken(); err != nil {
		t.Fatalf("store marked broken: %v", err)
	}
	mustPut(t, s, Entry{Name: "after", URI: "u"})
	wantCount(t, s, 1)
}
