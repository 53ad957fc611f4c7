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
	// Put in reverse name order: registration order is then the reverse of
	// each want list below (given in name order), so a store that lists by
	// name fails.
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
		want := slices.Clone(tt.want)
		slices.Reverse(want)
		if got := rangeNames(t, s, tt.prefix); !slices.Equal(got, want) {
			t.Errorf("Range(%q) = %q, want %q", tt.prefix, got, want)
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
	// The original group was registered first, in order, so it leads.
	for i := range group {
		if name := fmt.Sprintf("x.orig.%03d", i); i >= len(removed) || removed[i] != name {
			t.Fatalf("removed %q: %s not removed in registration order", removed, name)
		}
	}
	gone := map[string]bool{}
	for _, name := range removed {
		gone[name] = true
	}
	present := 0
	for _, names := range written {
		for _, name := range names {
			_, ok := mustGet(t, s, name)
			if ok == gone[name] {
				t.Fatalf("%s: present=%v and reported removed=%v", name, ok, gone[name])
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

// testOrder replays a history of registrations and checks the order of
// every listing against a model of the store's kind: a Python dict (memory,
// bolt: a new name goes last, replacing it or its metadata keeps its place,
// a name removed and registered again goes last) or SqlStorage's table
// (sql: every write of a name is a DELETE and an INSERT, so it goes last).
func testOrder(t *testing.T, s Store) {
	_, rowOrder := s.(*SQL)
	var model []string
	moveLast := func(name string) {
		if i := slices.Index(model, name); i >= 0 {
			if !rowOrder {
				return
			}
			model = slices.Delete(model, i, i+1)
		}
		model = append(model, name)
	}
	steps := []struct{ op, name string }{
		{"put", "Pyro.NameServer"}, {"put", "z"}, {"put", "m.2"}, {"putnew", "a"},
		{"put", "m.1"}, {"put", "z"}, {"meta", "m.2"}, {"put", "Pyro.NameServer"},
		{"del", "z"}, {"put", "z"}, {"put", "m.0"}, {"meta", "m.1"}, {"delmatch", "m."},
		{"put", "m.1"}, {"put", "a"},
	}
	for i, st := range steps {
		var err error
		switch st.op {
		case "put":
			err = s.Put(Entry{Name: st.name, URI: fmt.Sprint("PYRO:o", i, "@h:1")})
			moveLast(st.name)
		case "putnew":
			err = s.PutNew(Entry{Name: st.name, URI: "PYRO:o@h:1"})
			moveLast(st.name)
		case "meta":
			err = s.SetMetadata(st.name, []string{fmt.Sprint("tag", i)})
			moveLast(st.name)
		case "del":
			_, err = s.Delete(st.name)
			model = slices.DeleteFunc(model, func(n string) bool { return n == st.name })
		case "delmatch":
			var want []string
			for _, n := range model {
				if strings.HasPrefix(n, st.name) {
					want = append(want, n)
				}
			}
			var removed []string
			removed, err = s.DeleteMatching(st.name, nil)
			if err == nil && !slices.Equal(removed, want) {
				t.Fatalf("step %d: DeleteMatching(%q) removed %q, want %q (registration order)", i, st.name, removed, want)
			}
			model = slices.DeleteFunc(model, func(n string) bool { return strings.HasPrefix(n, st.name) })
		}
		if err != nil {
			t.Fatalf("step %d (%s %q): %v", i, st.op, st.name, err)
		}
		if got := rangeNames(t, s, ""); !slices.Equal(got, model) {
			t.Fatalf("step %d (%s %q): Range(\"\") = %q, want %q", i, st.op, st.name, got, model)
		}
	}
	want := []string{"Pyro.NameServer", "a", "z", "m.1"}
	if rowOrder {
		want = []string{"Pyro.NameServer", "z", "m.1", "a"}
	}
	if !slices.Equal(model, want) {
		t.Fatalf("model ends as %q, want %q", model, want)
	}
}
