package persist

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestParseStorage(t *testing.T) {
	tests := []struct {
		spec string
		want Storage
		err  string
	}{
		{"memory", Storage{Kind: "memory"}, ""},
		{"", Storage{Kind: "memory"}, ""},
		{"bolt:ns.db", Storage{Kind: "bolt", Path: "ns.db"}, ""},
		{"bolt:/var/lib/pyro4/ns.db", Storage{Kind: "bolt", Path: "/var/lib/pyro4/ns.db"}, ""},
		{"bolt:c:/x:y", Storage{Kind: "bolt", Path: "c:/x:y"}, ""},
		{"sql:ns.sqlite", Storage{Kind: "sql", Path: "ns.sqlite"}, ""},
		{"dbm:ns.dbm", Storage{}, "storage 'dbm:ns.dbm' is Pyro4's dbm store, which this name server does not serve; copy its registrations into a store it serves with: pyro4 migrate dbm:ns.dbm bolt:FILE (or sql:FILE)"},
		// As in Pyro4, a kind without a file and unknown kinds are invalid.
		{"bolt:", Storage{}, "invalid storage type 'bolt:'"},
		{"sql:", Storage{}, "invalid storage type 'sql:'"},
		{"dbm:", Storage{}, "invalid storage type 'dbm:'"},
		{"bolt", Storage{}, "invalid storage type 'bolt'"},
		{"Memory", Storage{}, "invalid storage type 'Memory'"},
		{"redis:localhost", Storage{}, "invalid storage type 'redis:localhost'"},
	}
	for _, tt := range tests {
		got, err := ParseStorage(tt.spec)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("ParseStorage(%q): %v", tt.spec, err)
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("ParseStorage(%q) error = %v, want %q", tt.spec, err, tt.err)
		case got != tt.want:
			t.Errorf("ParseStorage(%q) = %#v, want %#v", tt.spec, got, tt.want)
		}
		if tt.err == "" && tt.spec != "" && got.String() != tt.spec {
			t.Errorf("ParseStorage(%q).String() = %q", tt.spec, got.String())
		}
	}
}

func TestOpen(t *testing.T) {
	m, err := Open("memory")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*Memory); !ok {
		t.Fatalf("Open(memory) = %T", m)
	}
	m.Close()

	path := filepath.Join(t.TempDir(), "ns.db")
	b, err := Open("bolt:" + path)
	if err != nil {
		t.Fatal(err)
	}
	if bs, ok := b.(*Bolt); !ok || bs.Path() != path {
		t.Fatalf("Open(bolt:...) = %T %v", b, b)
	}
	b.Close()

	q, err := Open("sql:" + filepath.Join(t.TempDir(), "ns.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := q.(*SQL); !ok {
		t.Fatalf("Open(sql:...) = %T", q)
	}
	q.Close()

	// A file that is not a sqlite database is refused and left as it was.
	other := filepath.Join(t.TempDir(), "ns.sqlite")
	data := append([]byte("not sqlite at all"), make([]byte, 1024)...)
	writeFile(t, other, data)
	if s, err := Open("sql:" + other); !errors.Is(err, ErrNotStore) {
		t.Fatalf("Open(sql:foreign) = %v, %v", s, err)
	}
	if after := snapshot(t, other); !bytes.Equal(after.data, data) {
		t.Fatal("foreign file changed")
	}
}
