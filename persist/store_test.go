package persist

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// backend opens a fresh, empty store for one test; the test closes it.
type backend struct {
	name string
	open func(t *testing.T) Store
}

var backends = []backend{
	{"memory", func(t *testing.T) Store { return NewMemory() }},
	{"bolt", func(t *testing.T) Store {
		s, err := OpenBolt(filepath.Join(t.TempDir(), "ns.db"), BoltOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"sql", func(t *testing.T) Store {
		s, err := OpenSQL(filepath.Join(t.TempDir(), "ns.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// suite is run against every backend: a backend passes only if it behaves
// exactly as the others.
var suite = []struct {
	name string
	test func(t *testing.T, s Store)
}{
	{"GetPut", testGetPut},
	{"PutReplaces", testPutReplaces},
	{"PutNew", testPutNew},
	{"PutNewRace", testPutNewRace},
	{"SetMetadata", testSetMetadata},
	{"Delete", testDelete},
	{"Names", testNames},
	{"Range", testRange},
	{"Order", testOrder},
	{"RangeStops", testRangeStops},
	{"DeleteMatching", testDeleteMatching},
	{"DeleteMatchingAtomic", testDeleteMatchingAtomic},
	{"Concurrent", testConcurrent},
	{"Aliasing", testAliasing},
	{"Closed", testClosed},
}

func TestStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range suite {
				t.Run(c.name, func(t *testing.T) {
					s := b.open(t)
					defer s.Close()
					c.test(t, s)
				})
			}
		})
	}
}

func mustPut(t *testing.T, s Store, entries ...Entry) {
	t.Helper()
	for _, e := range entries {
		if err := s.Put(e); err != nil {
			t.Fatalf("Put(%q): %v", e.Name, err)
		}
	}
}

func mustGet(t *testing.T, s Store, name string) (Entry, bool) {
	t.Helper()
	e, ok, err := s.Get(name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	return e, ok
}

func wantEntry(t *testing.T, s Store, want Entry) {
	t.Helper()
	got, ok := mustGet(t, s, want.Name)
	if !ok {
		t.Fatalf("Get(%q): missing", want.Name)
	}
	if got.Name != want.Name || got.URI != want.URI || !slices.Equal(got.Metadata, want.Metadata) {
		t.Fatalf("Get(%q) = %#v, want %#v", want.Name, got, want)
	}
}

func wantMissing(t *testing.T, s Store, name string) {
	t.Helper()
	if e, ok := mustGet(t, s, name); ok {
		t.Fatalf("Get(%q) = %#v, want missing", name, e)
	}
}

func wantCount(t *testing.T, s Store, want int) {
	t.Helper()
	n, err := s.Count()
	if err != nil || n != want {
		t.Fatalf("Count() = %d, %v; want %d", n, err, want)
	}
}

func rangeNames(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	var names []string
	if err := s.Range(prefix, func(e Entry) bool {
		names = append(names, e.Name)
		return true
	}); err != nil {
		t.Fatalf("Range(%q): %v", prefix, err)
	}
	return names
}

func testGetPut(t *testing.T, s Store) {
	wantMissing(t, s, "a")
	wantCount(t, s, 0)
	tests := []struct {
		in     []string
		stored []string
	}{
		{nil, nil},
		{[]string{}, nil},
		{[]string{"x"}, []string{"x"}},
		{[]string{"b", "a", "b", "", "a"}, []string{"", "a", "b"}},
		{[]string{"β", "α", "z"}, []string{"z", "α", "β"}},
	}
	for i, tt := range tests {
		name := fmt.Sprintf("obj.%d", i)
		mustPut(t, s, Entry{Name: name, URI: "PYRO:" + name + "@localhost:9999", Metadata: tt.in})
		wantEntry(t, s, Entry{Name: name, URI: "PYRO:" + name + "@localhost:9999", Metadata: tt.stored})
	}
	wantCount(t, s, len(tests))
}

func testPutReplaces(t *testing.T, s Store) {
	mustPut(t, s, Entry{Name: "a", URI: "PYRO:a@h:1", Metadata: []string{"m1"}})
	mustPut(t, s, Entry{Name: "a", URI: "PYRO:a@h:2"})
	wantEntry(t, s, Entry{Name: "a", URI: "PYRO:a@h:2"})
	mustPut(t, s, Entry{Name: "a", URI: "PYRO:a@h:3", Metadata: []string{"m2", "m1"}})
	wantEntry(t, s, Entry{Name: "a", URI: "PYRO:a@h:3", Metadata: []string{"m1", "m2"}})
	wantCount(t, s, 1)
}

func testPutNew(t *testing.T, s Store) {
	first := Entry{Name: "a", URI: "PYRO:a@h:1", Metadata: []string{"m"}}
	if err := s.PutNew(first); err != nil {
		t.Fatalf("PutNew on absent name: %v", err)
	}
	if err := s.PutNew(Entry{Name: "a", URI: "PYRO:a@h:2"}); !errors.Is(err, ErrExists) {
		t.Fatalf("PutNew on present name: %v, want ErrExists", err)
	}
	wantEntry(t, s, first)
	wantCount(t, s, 1)
}

// testPutNewRace has many goroutines claim one name at once: exactly one
// wins, which needs the existence check and the write in one transaction.
func testPutNewRace(t *testing.T, s Store) {
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.PutNew(Entry{Name: "contested", URI: fmt.Sprintf("PYRO:o@h:%d", i)})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("PutNew succeeded for both %d and %d", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, ErrExists):
			t.Fatalf("PutNew %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no PutNew succeeded")
	}
	wantEntry(t, s, Entry{Name: "contested", URI: fmt.Sprintf("PYRO:o@h:%d", winner)})
	wantCount(t, s, 1)
}

func testSetMetadata(t *testing.T, s Store) {
	mustPut(t, s, Entry{Name: "a", URI: "PYRO:a@h:1", Metadata: []string{"old"}})
	tests := []struct{ in, stored []string }{
		{[]string{"y", "x", "y"}, []string{"x", "y"}},
		{nil, nil},
		{[]string{"z"}, []string{"z"}},
		{[]string{}, nil},
	}
	for _, tt := range tests {
		if err := s.SetMetadata("a", tt.in); err != nil {
			t.Fatalf("SetMetadata(%q): %v", tt.in, err)
		}
		wantEntry(t, s, Entry{Name: "a", URI: "PYRO:a@h:1", Metadata: tt.stored})
	}
	if err := s.SetMetadata("missing", []string{"x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetMetadata on missing name: %v, want ErrNotFound", err)
	}
	wantMissing(t, s, "missing")
	wantCount(t, s, 1)
}

func testDelete(t *testing.T, s Store) {
	mustPut(t, s, Entry{Name: "a", URI: "u1"}, Entry{Name: "b", URI: "u2"})
	if ok, err := s.Delete("a"); !ok || err != nil {
		t.Fatalf("Delete(present) = %v, %v", ok, err)
	}
	wantMissing(t, s, "a")
	wantEntry(t, s, Entry{Name: "b", URI: "u2"})
	wantCount(t, s, 1)
	if ok, err := s.Delete("a"); ok || err != nil {
		t.Fatalf("Delete(absent) = %v, %v", ok, err)
	}
	wantCount(t, s, 1)
	// A deleted name can be claimed again.
	if err := s.PutNew(Entry{Name: "a", URI: "u3"}); err != nil {
		t.Fatalf("PutNew after Delete: %v", err)
	}
	wantCount(t, s, 2)
}

// testNames covers the edges of what a name may be.
func testNames(t *testing.T, s Store) {
	long := strings.Repeat("x", MaxNameLen)
	for _, name := range []string{"", "\x00", "\xff\xfe", "日本語", long} {
		mustPut(t, s, Entry{Name: name, URI: "u:" + name[:min(len(name), 8)]})
		wantEntry(t, s, Entry{Name: name, URI: "u:" + name[:min(len(name), 8)]})
	}
	wantCount(t, s, 5)
	if err := s.Put(Entry{Name: long + "x", URI: "u"}); err == nil {
		t.Fatalf("Put of a %d-byte name succeeded", MaxNameLen+1)
	}
	if ok, err := s.Delete(""); !ok || err != nil {
		t.Fatalf("Delete(\"\") = %v, %v", ok, err)
	}
	wantCount(t, s, 4)
}

var rangeNamesSet = []string{
	"", "Pyro.NameServer", "a", "a.b", "a.b.c", "a.bc", "ab", "b",
	"é", "éa", "ê", "日本", "日本語.x", "日本語.y", "\xff",
}

// testConcurrent has many goroutines write, read and list at once; run
// under -race it also checks the locking.
func testConcurrent(t *testing.T, s Store) {
	const workers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("w%02d.%03d", w, i)
				md := []string{fmt.Sprint(i % 3), "w"}
				if err := s.Put(Entry{Name: name, URI: "u:" + name, Metadata: md}); err != nil {
					errs <- err
					return
				}
				e, ok, err := s.Get(name)
				if err != nil || !ok || e.URI != "u:"+name || !slices.Equal(e.Metadata, md) {
					errs <- fmt.Errorf("Get(%q) after Put = %#v, %v, %v", name, e, ok, err)
					return
				}
				// Read another writer's names while it writes them.
				other := fmt.Sprintf("w%02d.", (w+1)%workers)
				if err := s.Range(other, func(e Entry) bool { return strings.HasPrefix(e.Name, other) }); err != nil {
					errs <- err
					return
				}
				if _, err := s.Count(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantCount(t, s, workers*each)
	// Each writer's names come in the order it registered them.
	got := rangeNames(t, s, "")
	if len(got) != workers*each {
		t.Fatalf("Range found %d names, want %d", len(got), workers*each)
	}
	for w := range workers {
		var mine []string
		for _, name := range got {
			if strings.HasPrefix(name, fmt.Sprintf("w%02d.", w)) {
				mine = append(mine, name)
			}
		}
		if len(mine) != each || !slices.IsSorted(mine) {
			t.Fatalf("writer %d's names listed as %q, want its %d in registration order", w, mine, each)
		}
	}
}

// testAliasing checks that the store keeps its own copies of metadata.
func testAliasing(t *testing.T, s Store) {
	md := []string{"b", "a"}
	mustPut(t, s, Entry{Name: "n", URI: "u", Metadata: md})
	md[0], md[1] = "changed", "changed"
	e, _ := mustGet(t, s, "n")
	e.Metadata[0] = "changed too"
	wantEntry(t, s, Entry{Name: "n", URI: "u", Metadata: []string{"a", "b"}})
	set := []string{"y", "x"}
	if err := s.SetMetadata("n", set); err != nil {
		t.Fatal(err)
	}
	set[0] = "changed"
	wantEntry(t, s, Entry{Name: "n", URI: "u", Metadata: []string{"x", "y"}})
}

func testClosed(t *testing.T, s Store) {
	mustPut(t, s, Entry{Name: "a", URI: "u"})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]func() error{
		"Get":            func() error { _, _, err := s.Get("a"); return err },
		"Put":            func() error { return s.Put(Entry{Name: "b", URI: "u"}) },
		"PutNew":         func() error { return s.PutNew(Entry{Name: "b", URI: "u"}) },
		"SetMetadata":    func() error { return s.SetMetadata("a", nil) },
		"Delete":         func() error { _, err := s.Delete("a"); return err },
		"DeleteMatching": func() error { _, err := s.DeleteMatching("", nil); return err },
		"Range":          func() error { return s.Range("", func(Entry) bool { return true }) },
		"Count":          func() error { _, err := s.Count(); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
