package persist

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The suite's range and prefix-removal cases (see suite in store_test.go).

func testRange(t *testing.T, s Store) {
	// Put in reverse so that order cannot come from insertion.
	for _, n := range slices.Backward(rangeNamesSet) {
		mustPut(t, s, Entry{Name: n, URI: "PYRO:" + n + "@h:1", Metadata: []string{"m:" + n}})
	}
	sorted := slices.Sorted(slices.Values(rangeNamesSet))
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", sorted},
		{"a", []string{"a", "a.b", "a.b.c", "a.bc", "ab"}},
		{"a.b", []string{"a.b", "a.b.c", "a.bc"}},
		{"a.b.c", []string{"a.b.c"}},
		{"a.b.", []string{"a.b.c"}},
		{"Pyro.NameServer", []string{"Pyro.NameServer"}},
		{"é", []string{"é", "éa"}},
		{"\xc3", []string{"é", "éa", "ê"}}, // bytewise: the lead byte of é and ê
		{"日本", []string{"日本", "日本語.x", "日本語.y"}},
		{"日本語", []string{"日本語.x", "日本語.y"}},
		{"\xff", []string{"\xff"}},
		{"c", nil},
		{"zzz", nil},
		{"a.b.c.d", nil},
	}
	for _, tt := range tests {
		if got := rangeNames(t, s, tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("Range(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	// Entries carry their URI and metadata.
	err := s.Range("a.b", func(e Entry) bool {
		if e.URI != "PYRO:"+e.Name+"@h:1" || !slices.Equal(e.Metadata, []string{"m:" + e.Name}) {
			t.Errorf("Range entry %#v", e)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testRangeStops(t *testing.T, s Store) {
	for i := range 10 {
		mustPut(t, s, Entry{Name: fmt.Sprintf("n%d", i), URI: "u"})
	}
	var seen []string
	if err := s.Range("n", func(e Entry) bool {
		seen = append(seen, e.Name)
		return len(seen) < 3
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"n0", "n1", "n2"}; !slices.Equal(seen, want) {
		t.Fatalf("Range stopped after %q, want %q", seen, want)
	}
}

func testDeleteMatching(t *testing.T, s Store) {
	all := []string{"a.1", "a.2", "a.3", "ab", "b.1", "b.2", "c"}
	tests := []struct {
		name    string
		prefix  string
		match   func(string) bool
		removed []string
	}{
		{"prefix, all", "a.", nil, []string{"a.1", "a.2", "a.3"}},
		{"prefix, some", "a", func(n string) bool { return strings.HasSuffix(n, "2") || n == "ab" }, []string{"a.2", "ab"}},
		{"no prefix", "", func(n string) bool { return strings.HasSuffix(n, ".1") }, []string{"a.1", "b.1"}},
		{"everything", "", nil, all},
		{"nothing matches", "b", func(string) bool { return false }, nil},
		{"absent prefix", "zz", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.DeleteMatching("", nil); err != nil {
				t.Fatal(err)
			}
			for _, n := range all {
				mustPut(t, s, Entry{Name: n, URI: "u"})
			}
			var asked []string
			match := tt.match
			if match != nil {
				match = func(n string) bool { asked = append(asked, n); return tt.match(n) }
			}
			removed, err := s.DeleteMatching(tt.prefix, match)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(removed, tt.removed) {
				t.Fatalf("removed %q, want %q", removed, tt.removed)
			}
			for _, n := range asked {
				if !strings.HasPrefix(n, tt.prefix) {
					t.Errorf("match asked about %q outside prefix %q", n, tt.prefix)
				}
			}
			var left []string
			for _, n := range all {
				if !slices.Contains(tt.removed, n) {
					left = append(left, n)
				}
			}
			if got := rangeNames(t, s, ""); !slices.Equal(got, left) {
				t.Fatalf("left %q, want %q", got, left)
			}
			wantCount(t, s, len(left))
		})
	}
}

// testDeleteMatchingAtomic runs a DeleteMatching while writers add names
// under the same prefix and readers list it. Readers must see the original
// group whole or not at all, and each name a writer added must end up
// either removed (reported) or present, never lost.
func testDeleteMatchingAtomic(t *testing.T, s Store) {
	const group, writers, perWriter = 200, 4, 25
	for i := range group {
		mustPut(t, s, Entry{Name: fmt.Sprintf("x.orig.%03d", i), URI: "u"})
	}
	var (
		wg      sync.WaitGroup
		stop    = make(chan struct{})
		written = make([][]string, writers)
		errs    = make(chan error, writers+2)
	)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				name := fmt.Sprintf("x.new.%d.%d", w, i)
				if err := s.PutNew(Entry{Name: name, URI: "u"}); err != nil {
					errs <- err
					return
				}
				written[w] = append(written[w], name)
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			n := 0
			if err := s.Range("x.orig.", func(Entry) bool { n++; return true }); err != nil {
				errs <- err
				return
			}
			if n != 0 && n != group {
				errs <- fmt.Errorf("a reader saw %d of the %d names being removed", n, group)
				return
			}
		}
	})
	removed, err := s.DeleteMatching("x.", nil)
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if !slices.IsSorted(removed) {
		t.Fatalf("removed names not in order: %q", removed)
	}
	for i := range group {
		if name := fmt.Sprintf("x.orig.%03d", i); !slices.Contains(removed, name) {
			t.Fatalf("%s not removed", name)
		}
	}
	present := 0
	for _, names := range written {
		for _, name := range names {
			_, ok := mustGet(t, s, name)
			_, gone := slices.BinarySearch(removed, name)
			if ok == gone {
				t.Fatalf("%s: present=%v and reported removed=%v", name, ok, gone)
			}
			if ok {
				present++
			}
		}
	}
	if len(removed) != group+writers*perWriter-present {
		t.Fatalf("removed %d names, want %d", len(removed), group+writers*perWriter-present)
	}
	wantCount(t, s, present)
}
