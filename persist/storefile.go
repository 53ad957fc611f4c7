package persist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ensureStoreDir makes sure the directory of a store file exists, creating
// it (mode 0750: registrations are not for every local user) when it does
// not, so that `-s bolt:/var/lib/pyro4/ns.db` works on a fresh machine. Its
// errors say, in the words of the path the user gave, why: permission, a
// read-only file system, a file where a directory should be.
func ensureStoreDir(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("store %s: cannot create directory %s: %w", path, dir, reason(err))
		}
		return nil
	case err != nil:
		return fmt.Errorf("store %s: directory %s: %w", path, dir, reason(err))
	case !fi.IsDir():
		return fmt.Errorf("store %s: %s is not a directory", path, dir)
	}
	return nil
}

var (
	errReadOnlyFS = errors.New("read-only file system")
	errPermission = errors.New("permission denied")
)

// reason is the cause of a file system error without the operation and
// path it carries (the caller names the path the user gave).
func reason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		switch {
		case isReadOnlyFS(pe.Err):
			return errReadOnlyFS
		case errors.Is(pe.Err, fs.ErrPermission):
			return errPermission
		}
		return pe.Err
	}
	return err
}

// describeCreateError turns the error of making a file for path into the
// reason a user can act on, naming path, not any temporary name.
func describeCreateError(path string, err error) error {
	dir := filepath.Dir(path)
	switch err := reason(err); {
	case errors.Is(err, errPermission):
		return fmt.Errorf("store %s: cannot create the file: permission denied in directory %s", path, dir)
	case errors.Is(err, errReadOnlyFS):
		return fmt.Errorf("store %s: cannot create the file: directory %s is on a read-only file system", path, dir)
	default:
		return fmt.Errorf("store %s: cannot create the file: %w", path, err)
	}
}

// sqliteMagic starts every sqlite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// refuseForeignFile refuses a non-empty file that is not a sqlite database
// before sqlite sees it, so that it is left exactly as it was.
func refuseForeignFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("store %s is %w: not a regular file", path, ErrNotStore)
	}
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	if n == 0 && (err == io.EOF || err == nil) {
		return nil // empty: sqlite makes a database of it, as in Pyro4
	}
	if !bytes.Equal(head[:n], sqliteMagic) {
		return fmt.Errorf("store %s is %w: not a sqlite database; the file was left untouched", path, ErrNotStore)
	}
	return nil
}
