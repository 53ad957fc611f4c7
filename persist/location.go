package persist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Location is a place registrations can be copied from or to, the argument
// of `pyro4 migrate`: a store file of one of the kinds a name server
// serves (bolt:, sql:), a JSON file (json:, a backup people and tools can
// read) or Pyro4's dbm file (dbm:, a source only).
type Location struct {
	Kind string // "bolt", "sql", "json" or "dbm"
	Path string
}

func (l Location) String() string { return l.Kind + ":" + l.Path }

// ParseLocation reads KIND:FILE.
func ParseLocation(spec string) (Location, error) {
	kind, path, ok := strings.Cut(spec, ":")
	if !ok || path == "" {
		return Location{}, fmt.Errorf("invalid store '%s': want bolt:FILE, sql:FILE, json:FILE or dbm:FILE", spec)
	}
	switch kind {
	case "bolt", "sql", "json", "dbm":
		return Location{Kind: kind, Path: path}, nil
	}
	return Location{}, fmt.Errorf("invalid store '%s': unknown kind %q (bolt, sql, json or dbm)", spec, kind)
}

// Exists reports whether the location's file is there (for dbm:, the file
// Berkeley DB made of the name, FILE.db, counts).
func (l Location) Exists() (bool, error) {
	paths := []string{l.Path}
	if l.Kind == "dbm" {
		paths = append(paths, l.Path+".db")
	}
	for _, p := range paths {
		_, err := os.Stat(p)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("store %s: %w", p, err)
		}
	}
	return false, nil
}

// Read returns every registration at the location, in its order, without
// writing to it: the file is left byte for byte as it was. A store file a
// running name server of ours holds is refused with an error wrapping
// ErrInUse.
func (l Location) Read() ([]Entry, error) {
	ok, err := l.Exists()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("store %s: %w", l, fs.ErrNotExist)
	}
	switch l.Kind {
	case "bolt":
		return readBolt(l.Path)
	case "sql":
		return readSQL(l.Path)
	case "json":
		return readJSON(l.Path)
	case "dbm":
		return readDBM(l.Path)
	}
	return nil, fmt.Errorf("store %s: unknown kind", l)
}

// Write adds entries, in their order, to the location, creating it when it
// does not exist. Entries whose names are already there replace them.
// progress, when not nil, is called now and then with the number written.
func (l Location) Write(entries []Entry, progress func(done int)) error {
	if progress == nil {
		progress = func(int) {}
	}
	switch l.Kind {
	case "bolt":
		b, err := OpenBolt(l.Path, BoltOptions{})
		if err != nil {
			return err
		}
		return errors.Join(b.importEntries(entries, progress), b.Close())
	case "sql":
		s, err := OpenSQL(l.Path)
		if err != nil {
			return err
		}
		return errors.Join(s.importEntries(entries, progress), s.Close())
	case "json":
		return writeJSON(l.Path, entries, progress)
	case "dbm":
		return fmt.Errorf("store %s: Pyro4's dbm store can be read, not written; copy into bolt:, sql: or json:", l)
	}
	return fmt.Errorf("store %s: unknown kind", l)
}

// importChunk is how many entries one transaction of an import carries: a
// sync per chunk, not per entry, and a bounded transaction.
const importChunk = 10000
