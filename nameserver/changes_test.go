package nameserver

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

type changeRecorder struct {
	mu  sync.Mutex
	got []Change
}

func (r *changeRecorder) record(c Change) {
	r.mu.Lock()
	r.got = append(r.got, c)
	r.mu.Unlock()
}

func (r *changeRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.got {
		out = append(out, fmt.Sprintf("%s %s %s %v", c.Op, c.Name, c.URI, c.Metadata))
	}
	r.got = nil
	return out
}

// TestChangesAndAudit drives each writing call over the wire and checks the
// change callback's reports and the audit line, with the caller's address.
func TestChangesAndAudit(t *testing.T) {
	rec := &changeRecorder{}
	logs := &logRecorder{}
	s := startServer(t, Options{NoBroadcast: true, OnChange: rec.record, Logger: slog.New(logs)})
	if got := rec.take(); len(got) != 1 || !strings.HasPrefix(got[0], "register Pyro.NameServer PYRO:Pyro.NameServer@") {
		t.Fatalf("New reported %q, want the name server's own registration", got)
	}
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	peer := tc.c.LocalAddr().String()
	const uri = "PYRO:obj@localhost:4711"
	for _, st := range []struct {
		label       string
		method      string
		args        []wire.Value
		wantChanges []string
		wantAudit   []string // parts of the one audit line; none when nil
	}{
		{"register", "register", []wire.Value{"a.one", uri, false, wire.List{"z", "b", "b"}},
			[]string{"register a.one " + uri + " [b z]"},
			[]string{"op=register", "name=a.one", "uri=" + uri, "metadata=[z b b]", "peer=" + peer}},
		{"safe register of a taken name changes nothing", "register", []wire.Value{"a.one", uri, true}, nil, nil},
		{"set_metadata", "set_metadata", []wire.Value{"a.one", wire.List{"x"}},
			[]string{"change a.one " + uri + " [x]"},
			[]string{"op=set_metadata", "name=a.one", "uri=" + uri, "metadata=[x]", "peer=" + peer}},
		{"register another", "register", []wire.Value{"a.two", uri}, []string{"register a.two " + uri + " []"},
			[]string{"op=register", "name=a.two"}},
		{"remove by name", "remove", []wire.Value{"a.two"}, []string{"remove a.two " + uri + " []"},
			[]string{"op=remove", "name=a.two", "removed=1", "peer=" + peer}},
		{"remove of an unknown name is audited, not reported", "remove", []wire.Value{"nope"}, nil,
			[]string{"op=remove", "name=nope", "removed=0"}},
		{"remove by prefix", "remove", []wire.Value{nil, "a."}, []string{"remove a.one  []"},
			[]string{"op=remove", "prefix=a.", "removed=1", "peer=" + peer}},
	} {
		before := len(logs.matching("audit"))
		if _, err := tc.call(NameServerName, st.method, st.args...); err != nil && st.wantChanges != nil {
			t.Fatalf("%s: %v", st.label, err)
		}
		if got := rec.take(); !slices.Equal(got, st.wantChanges) {
			t.Errorf("%s: changes %q, want %q", st.label, got, st.wantChanges)
		}
		lines := logs.matching("audit")[before:]
		switch {
		case st.wantAudit == nil && len(lines) != 0:
			t.Errorf("%s: audit lines %q, want none", st.label, lines)
		case st.wantAudit != nil && len(lines) != 1:
			t.Errorf("%s: audit lines %q, want one", st.label, lines)
		case st.wantAudit != nil:
			for _, p := range st.wantAudit {
				if !strings.Contains(lines[0], p) {
					t.Errorf("%s: audit line %q lacks %q", st.label, lines[0], p)
				}
			}
			if !strings.HasPrefix(lines[0], "INFO ") {
				t.Errorf("%s: audit line %q is not at INFO", st.label, lines[0])
			}
		}
	}
}

// TestChangesOfStaticEntries: a static entry appearing is a registration,
// and its removal brings back the client entry it shadowed.
func TestChangesOfStaticEntries(t *testing.T) {
	rec := &changeRecorder{}
	s := startServer(t, Options{NoBroadcast: true, OnChange: rec.record})
	reg := s.Registry()
	if err := reg.Register(persist.Entry{Name: "shared", URI: "PYRO:client@localhost:1"}, false); err != nil {
		t.Fatal(err)
	}
	rec.take()
	steps := []struct {
		static []persist.Entry
		want   []string
	}{
		{[]persist.Entry{{Name: "shared", URI: "PYRO:static@localhost:2"}, {Name: "only", URI: "PYRO:o@localhost:3"}},
			[]string{"register only PYRO:o@localhost:3 []", "register shared PYRO:static@localhost:2 []"}},
		{nil, []string{"remove only  []", "register shared PYRO:client@localhost:1 []"}},
	}
	for i, st := range steps {
		if _, _, _, err := reg.SetStatic(st.static); err != nil {
			t.Fatal(err)
		}
		if got := rec.take(); !slices.Equal(got, st.want) {
			t.Errorf("step %d: changes %q, want %q", i, got, st.want)
		}
	}
}
