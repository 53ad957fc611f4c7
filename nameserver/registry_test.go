package nameserver

import (
	"errors"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

func names(t *testing.T, r *Registry, prefix string) []string {
	t.Helper()
	var out []string
	err := r.Range(prefix, func(e persist.Entry, static bool) bool {
		s := e.Name + "=" + e.URI
		if static {
			s += " (static)"
		}
		out = append(out, s)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func isNamingError(err error, text string) bool {
	var x *wire.Exception
	return errors.As(err, &x) && x.Class == wire.ClassNamingError && x.Text() == text
}

func TestRegistryStaticOverlay(t *testing.T) {
	r := NewRegistry(persist.NewMemory())
	for _, e := range []persist.Entry{
		{Name: "a", URI: "PYRO:a@h:1"},
		{Name: "c", URI: "PYRO:client@h:3"},
		{Name: "e", URI: "PYRO:e@h:5"},
	} {
		if err := r.Register(e, false); err != nil {
			t.Fatal(err)
		}
	}
	added, changed, removed, err := r.SetStatic([]persist.Entry{
		{Name: "d", URI: "PYRO:d@h:4", Metadata: []string{"y", "x", "y"}},
		{Name: "c", URI: "PYRO:static@h:3"},
		{Name: "b", URI: "PYRO:b@h:2"},
		{Name: "zz", URI: "PYRO:zz@h:9"},
	})
	if err != nil || !slices.Equal(added, []string{"b", "c", "d", "zz"}) || changed != nil || removed != nil {
		t.Fatalf("SetStatic: %v %v %v %v", added, changed, removed, err)
	}
	// Static entries first, in config order, then the client entries in
	// registration order, the one shadowed by a static entry left out.
	want := []string{"d=PYRO:d@h:4 (static)", "c=PYRO:static@h:3 (static)", "b=PYRO:b@h:2 (static)",
		"zz=PYRO:zz@h:9 (static)", "a=PYRO:a@h:1", "e=PYRO:e@h:5"}
	if got := names(t, r, ""); !slices.Equal(got, want) {
		t.Errorf("Range:\n got %v\nwant %v", got, want)
	}
	if got := names(t, r, "c"); !slices.Equal(got, []string{"c=PYRO:static@h:3 (static)"}) {
		t.Errorf("Range c: %v", got)
	}
	if got := names(t, r, "z"); !slices.Equal(got, []string{"zz=PYRO:zz@h:9 (static)"}) {
		t.Errorf("Range z: %v", got)
	}
	if n, err := r.Count(); err != nil || n != 6 {
		t.Errorf("Count %d %v, want 6", n, err)
	}
	if e, ok, err := r.Lookup("d"); err != nil || !ok || !slices.Equal(e.Metadata, []string{"x", "y"}) {
		t.Errorf("Lookup d: %v %v %v", e, ok, err)
	}
	// early stop
	n := 0
	r.Range("", func(persist.Entry, bool) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("Range did not stop: %d calls", n)
	}

	// clients cannot write static names
	static := "name is statically configured: c (edit the config file)"
	if err := r.Register(persist.Entry{Name: "c", URI: "PYRO:x@h:1"}, false); !isNamingError(err, static) {
		t.Errorf("register over static: %v", err)
	}
	if err := r.Register(persist.Entry{Name: "c", URI: "PYRO:x@h:1"}, true); !isNamingError(err, "name already registered: c") {
		t.Errorf("safe register over static: %v", err)
	}
	if err := r.SetMetadata("c", nil); !isNamingError(err, static) {
		t.Errorf("set metadata of static: %v", err)
	}
	if _, err := r.Remove("c"); !isNamingError(err, static) {
		t.Errorf("remove static: %v", err)
	}
	// prefix removal skips them
	gone, err := r.RemoveMatching("", nil)
	if err != nil || !slices.Equal(gone, []string{"a", "e"}) {
		t.Errorf("RemoveMatching: %v %v", gone, err)
	}

	// a diff: change one, drop two, keep one; the client entry under c reappears
	added, changed, removed, err = r.SetStatic([]persist.Entry{
		{Name: "b", URI: "PYRO:b@h:2"},
		{Name: "d", URI: "PYRO:d@h:4", Metadata: []string{"x"}},
		{Name: "new", URI: "PYRONAME:x"},
	})
	if err != nil || !slices.Equal(added, []string{"new"}) || !slices.Equal(changed, []string{"d"}) ||
		!slices.Equal(removed, []string{"c", "zz"}) {
		t.Fatalf("SetStatic diff: %v %v %v %v", added, changed, removed, err)
	}
	if e, ok, _ := r.Lookup("c"); !ok || e.URI != "PYRO:client@h:3" {
		t.Errorf("client entry under a removed static one: %v %v", e, ok)
	}
	if r.IsStatic("c") || !r.IsStatic("new") || len(r.Static()) != 3 {
		t.Errorf("static set: %v", r.Static())
	}
	// static entries are not in the store
	if _, ok, _ := r.Store().Get("b"); ok {
		t.Error("static entry written to the store")
	}
}

func TestSetStaticRefuses(t *testing.T) {
	r := NewRegistry(persist.NewMemory())
	if _, _, _, err := r.SetStatic([]persist.Entry{{Name: "ok", URI: "PYRO:a@h:1"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		entries []persist.Entry
		want    string
	}{
		{"bad uri", []persist.Entry{{Name: "x", URI: "nonsense"}}, "invalid uri"},
		{"duplicate", []persist.Entry{{Name: "x", URI: "PYRO:a@h:1"}, {Name: "x", URI: "PYRO:a@h:1"}}, "configured twice"},
		{"own name", []persist.Entry{{Name: NameServerName, URI: "PYRO:a@h:1"}}, "own name"},
		{"too long", []persist.Entry{{Name: strings.Repeat("n", persist.MaxNameLen+1), URI: "PYRO:a@h:1"}}, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := r.SetStatic(tt.entries)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to mention %q", err, tt.want)
			}
			if !r.IsStatic("ok") || r.IsStatic("x") {
				t.Error("a refused SetStatic changed the static set")
			}
		})
	}
}

func TestRegistryProtectsNameServerEntry(t *testing.T) {
	r := NewRegistry(persist.NewMemory())
	if err := r.registerSelf("PYRO:Pyro.NameServer@h:1"); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Remove(NameServerName); ok || err != nil {
		t.Errorf("Remove(self) = %v, %v", ok, err)
	}
	if gone, err := r.RemoveMatching("Pyro", nil); len(gone) != 0 || err != nil {
		t.Errorf("RemoveMatching(Pyro) = %v, %v", gone, err)
	}
	if _, ok, _ := r.Lookup(NameServerName); !ok {
		t.Error("the name server entry is gone")
	}
}

func TestRegistryStoreErrorsAreWrapped(t *testing.T) {
	st := persist.NewMemory()
	r := NewRegistry(st)
	st.Close()
	err := r.Register(persist.Entry{Name: "x", URI: "PYRO:a@h:1"}, false)
	if !errors.Is(err, persist.ErrClosed) || !strings.Contains(err.Error(), `register "x"`) {
		t.Errorf("Register on a closed store: %v", err)
	}
	if x := asException(err); x.Class != wire.ClassPyroError || !strings.Contains(x.Text(), "store is closed") {
		t.Errorf("client sees %v", x)
	}
}

// TestNewRefreshesOwnEntry starts servers over a store from an earlier run
// whose Pyro.NameServer entry names another address: New replaces it with
// the current URI (and the name server's own metadata), leaving the other
// entries alone, as pyro4-ns does on start.
func TestNewRefreshesOwnEntry(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ns.sock")
	for _, tc := range []struct {
		name string
		opts Options
		want func(s *Server) string
	}{
		{"other port", Options{Host: "127.0.0.1"}, func(s *Server) string {
			return "PYRO:Pyro.NameServer@127.0.0.1:" + strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
		}},
		{"nat", Options{Host: "127.0.0.1", NATHost: "ext.example", NATPort: 5555}, func(*Server) string {
			return "PYRO:Pyro.NameServer@ext.example:5555"
		}},
		{"unix socket", Options{UnixSocket: sock}, func(*Server) string { return "PYRO:Pyro.NameServer@./u:" + sock }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := persist.NewMemory()
			stale := persist.Entry{Name: NameServerName, URI: "PYRO:Pyro.NameServer@old.example:1", Metadata: []string{"stale"}}
			app := persist.Entry{Name: "app", URI: "PYRO:app@h:2", Metadata: []string{"x"}}
			for _, e := range []persist.Entry{stale, app} {
				if err := st.Put(e); err != nil {
					t.Fatal(err)
				}
			}
			tc.opts.NoBroadcast, tc.opts.Store = true, st
			s, err := New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			want := tc.want(s)
			if got, ok, err := st.Get(NameServerName); err != nil || !ok || got.URI != want || !slices.Equal(got.Metadata, nameServerMetadata) {
				t.Errorf("own entry %+v (%v, %v), want %s with %v", got, ok, err, want, nameServerMetadata)
			}
			if s.URI().String() != want {
				t.Errorf("URI %s, want %s", s.URI(), want)
			}
			if got, ok, _ := st.Get("app"); !ok || got.URI != app.URI || !slices.Equal(got.Metadata, app.Metadata) {
				t.Errorf("other entry %+v, %v", got, ok)
			}
			if n, _ := st.Count(); n != 2 {
				t.Errorf("%d entries, want 2", n)
			}
		})
	}
}

// TestRegisterNameTooLong: a name the store cannot keep is a NamingError
// naming the limit and only the start of the name, whatever the serializer.
func TestRegisterNameTooLong(t *testing.T) {
	requireCodecs(t, "serpent", "json", "marshal", "msgpack")
	s := startServer(t, Options{NoBroadcast: true, Accepted: allAccepted(t)})
	longest := strings.Repeat("n", persist.MaxNameLen)
	tests := []struct {
		name string
		safe bool
		want string // "" for success
	}{
		{longest, false, ""},
		{longest + "n", false, "name too long: 32768 bytes, at most 32767 (" + strings.Repeat("n", 40) + "...)"},
		{longest + "n", true, "name too long: 32768 bytes, at most 32767 (" + strings.Repeat("n", 40) + "...)"},
		{strings.Repeat("é", 20000), false, "name too long: 40000 bytes, at most 32767 (" + strings.Repeat("é", 40) + "...)"},
	}
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		tc := dialTest(t, s, ser)
		tc.connect(NameServerName)
		for _, tt := range tests {
			_, err := tc.call(NameServerName, "register", tt.name, "PYRO:obj@h:1", tt.safe)
			if tt.want == "" {
				if err != nil {
					t.Errorf("%s: register of %d bytes: %v", ser, len(tt.name), err)
				}
				continue
			}
			if !isNamingError(err, tt.want) {
				t.Errorf("%s: register of %d bytes (safe %v): %v, want NamingError %q", ser, len(tt.name), tt.safe, err, tt.want)
			}
			if _, found, _ := s.Registry().Lookup(tt.name); found {
				t.Errorf("%s: the long name was stored", ser)
			}
		}
	}
	if v, err := s.Registry().Count(); err != nil || v != 2 {
		t.Errorf("count %v %v, want the name server and the longest name", v, err)
	}
}

// TestRegistryOrder checks where each kind of entry goes: the store's
// registration order for client entries, and with static entries the name
// server's own entry first, the static ones next in config order.
func TestRegistryOrder(t *testing.T) {
	r := NewRegistry(persist.NewMemory())
	if err := r.registerSelf("PYRO:Pyro.NameServer@h:9090"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"x.2", "x.1", "y", "x.3"} {
		if err := r.Register(persist.Entry{Name: n, URI: "PYRO:" + n + "@h:1"}, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Register(persist.Entry{Name: "x.2", URI: "PYRO:again@h:1"}, false); err != nil {
		t.Fatal(err)
	}
	short := func(prefix string) []string {
		var out []string
		if err := r.Range(prefix, func(e persist.Entry, static bool) bool {
			out = append(out, e.Name)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{NameServerName, "x.2", "x.1", "y", "x.3"}},
		{"x.", []string{"x.2", "x.1", "x.3"}},
	}
	for _, tt := range tests {
		if got := short(tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("no static: Range(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	if _, _, _, err := r.SetStatic([]persist.Entry{{Name: "x.9", URI: "PYRO:s@h:1"}, {Name: "x.1", URI: "PYRO:s@h:1"}, {Name: "a", URI: "PYRO:s@h:1"}}); err != nil {
		t.Fatal(err)
	}
	tests = []struct {
		prefix string
		want   []string
	}{
		{"", []string{NameServerName, "x.9", "x.1", "a", "x.2", "y", "x.3"}},
		{"x.", []string{"x.9", "x.1", "x.2", "x.3"}},
		{"y", []string{"y"}},
		{"Pyro", []string{NameServerName}},
	}
	for _, tt := range tests {
		if got := short(tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("with static: Range(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

// TestRegistryRegexOrder: a store whose Pyro4 counterpart lists a regex
// search in name order (sql) has RangeRegexOrder give that order; Range
// keeps the store's own.
func TestRegistryRegexOrder(t *testing.T) {
	store, err := persist.OpenSQL(filepath.Join(t.TempDir(), "ns.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r := NewRegistry(store)
	for _, n := range []string{"b", "c", "a"} {
		if err := r.Register(persist.Entry{Name: n, URI: "PYRO:" + n + "@h:1"}, false); err != nil {
			t.Fatal(err)
		}
	}
	collect := func(rng func(string, func(persist.Entry, bool) bool) error) []string {
		var out []string
		if err := rng("", func(e persist.Entry, _ bool) bool { out = append(out, e.Name); return true }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := collect(r.Range); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Errorf("Range = %q, want row order", got)
	}
	if got := collect(r.RangeRegexOrder); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("RangeRegexOrder = %q, want name order", got)
	}
	mem := NewRegistry(persist.NewMemory())
	for _, n := range []string{"b", "a"} {
		if err := mem.Register(persist.Entry{Name: n, URI: "PYRO:" + n + "@h:1"}, false); err != nil {
			t.Fatal(err)
		}
	}
	if got := collect(mem.RangeRegexOrder); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("memory RangeRegexOrder = %q, want registration order", got)
	}
}
