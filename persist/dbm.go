package persist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"unicode/utf8"

	"github.com/pyro4/pyro4/persist/bdbhash"
)

// readDBM reads Pyro4's dbm store (DbmStorage): on Debian Python's dbm is
// dbm.ndbm over Berkeley DB, which keeps `dbm:FILE` in FILE.db, a Berkeley
// DB hash file of UTF-8 names and URIs, without metadata. The file is only
// read. Other dbm formats are named and refused.
func readDBM(path string) ([]Entry, error) {
	file := path + ".db"
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		file = path // the name given may be the file itself
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("store dbm:%s: %w", path, reason(err))
	}
	if kind := otherDBM(data); kind != "" {
		return nil, fmt.Errorf("store %s is %w: a %s file; pyro4 migrate reads Berkeley DB hash files (Debian's dbm.ndbm); copy it into one with python3, or into json: by hand", file, ErrNotStore, kind)
	}
	pairs, err := bdbhash.Read(data)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", file, err)
	}
	out := make([]Entry, 0, len(pairs))
	for _, p := range pairs {
		if !utf8.Valid(p.Key) || !utf8.Valid(p.Value) {
			return nil, fmt.Errorf("store %s is %w: entry %q is not UTF-8, as Pyro4 writes them", file, ErrDamaged, p.Key)
		}
		out = append(out, Entry{Name: string(p.Key), URI: string(p.Value)})
	}
	return out, nil
}

// otherDBM names a dbm format other than Berkeley DB hash by its magic
// number, or returns "".
func otherDBM(data []byte) string {
	if len(data) < 4 {
		return ""
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch order.Uint32(data) {
		case 0x13579ace, 0x13579acd, 0x13579acf: // GDBM's magic numbers
			return "GDBM (Python's dbm.gnu, from python3-gdbm)"
		}
	}
	if len(data) >= 16 && binary.LittleEndian.Uint32(data[12:]) == 0x053162 || len(data) >= 16 && binary.BigEndian.Uint32(data[12:]) == 0x053162 {
		return "Berkeley DB B-tree"
	}
	return ""
}
