package persist

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestLocationDBM reads the golden dbm.ndbm file (Pyro4's dbm: store as
// Debian's Python writes it, FILE.db for dbm:FILE) and refuses a GDBM file
// by name; neither file changes.
func TestLocationDBM(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("bdbhash", "testdata", "small.db"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ns.dbm.db"), data)
	got, err := Location{Kind: "dbm", Path: filepath.Join(dir, "ns.dbm")}.Read()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
		if !strings.HasPrefix(e.URI, "PYRO:") || e.Metadata != nil {
			t.Errorf("entry %+v", e)
		}
	}
	if want := []string{"Pyro.NameServer", "app.a", "app.b", "日本.サービス"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q (dbm's key order)", names, want)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "ns.dbm.db")); !bytes.Equal(after, data) {
		t.Error("the dbm file changed")
	}

	gdbm := append([]byte{0xce, 0x9a, 0x57, 0x13}, make([]byte, 1020)...)
	writeFile(t, filepath.Join(dir, "g.db"), gdbm)
	_, err = Location{Kind: "dbm", Path: filepath.Join(dir, "g")}.Read()
	if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "GDBM") {
		t.Errorf("GDBM file: %v", err)
	}
}

// TestCreateErrorWords: the reasons a store file cannot be made are told
// in the user's words, with the path given.
func TestCreateErrorWords(t *testing.T) {
	const path = "/srv/ns/ns.db"
	tmp := &fs.PathError{Op: "open", Path: "/srv/ns/.ns.db.new-0011", Err: syscall.EROFS}
	if got := describeCreateError(path, tmp).Error(); got != "store /srv/ns/ns.db: cannot create the file: directory /srv/ns is on a read-only file system" {
		t.Errorf("read-only: %q", got)
	}
	tmp.Err = syscall.EACCES
	if got := describeCreateError(path, tmp).Error(); got != "store /srv/ns/ns.db: cannot create the file: permission denied in directory /srv/ns" {
		t.Errorf("permission: %q", got)
	}
}
