package persist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // the pure Go sqlite driver, registered as "sqlite"
)

// The schema of Pyro4's SqlStorage, statement for statement: sqlite keeps
// the text of a CREATE TABLE in sqlite_master, so a file made here is the
// file pyro4-ns makes, down to that text.
const (
	sqlCreateNames = `CREATE TABLE pyro_names
            (
                id integer PRIMARY KEY,
                name nvarchar NOT NULL UNIQUE,
                uri nvarchar NOT NULL
            );`
	sqlCreateMetadata = `CREATE TABLE pyro_metadata
            (
                object integer NOT NULL,
                metadata nvarchar NOT NULL,
                FOREIGN KEY(object) REFERENCES pyro_names(id)
            );`
)

// SQL is a Store in the sqlite file of Pyro4's SqlStorage (`pyro4-ns -s
// sql:FILE`), read and written in its schema so that the same file can be
// served by pyro4-ns and by this server in turn. Each write is one
// transaction, as in Pyro4, committed with sqlite's rollback journal (kept,
// so that Python's sqlite3 still opens the file) and synced before the call
// returns. Reads are answered from an in-memory index loaded at open.
//
// The order is SqlStorage's: ascending row id. Re-registering a name or
// changing its metadata is, as in Pyro4, a DELETE and an INSERT, so the
// entry takes a new id and moves to the end; the name server's own entry,
// registered again at each start, moves to the end after a restart.
type SQL struct {
	path string
	db   *sql.DB
	conn *sql.Conn
	lock *os.File // held for the life of the store: one name server per file

	mu     sync.Mutex // orders writes, so the index follows the file
	index  *Memory    // seq is the row id
	closed bool
}

// sqlDSN is the sqlite URI of path: a plain name with a '?' in it would be
// cut there by the driver.
func sqlDSN(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(abs)), nil
}

// OpenSQL opens, or creates, the Pyro4 sqlite store at path. As Pyro4 does,
// it creates the tables in a database that lacks them and upgrades a file of
// Pyro4's older layout (pyro_names without pyro_metadata). A file that is
// not a sqlite database is refused and left as it was; a file another name
// server of ours holds is refused with an error wrapping ErrInUse.
func OpenSQL(path string) (*SQL, error) {
	if err := ensureStoreDir(path); err != nil {
		return nil, err
	}
	if err := refuseForeignFile(path); err != nil {
		return nil, err
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	s, err := openSQL(path, lock)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

func openSQL(path string, lock *os.File) (*SQL, error) {
	dsn, err := sqlDSN(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: open: %w", path, err)
	}
	s := &SQL{path: path, db: db, conn: conn, lock: lock, index: NewMemory()}
	if err := s.setup(ctx); err != nil {
		conn.Close()
		db.Close()
		return nil, err
	}
	return s, nil
}

// setup sets the connection up as Pyro4's are (foreign keys on), makes or
// upgrades the schema as SqlStorage.__init__ does, and loads the index.
func (s *SQL) setup(ctx context.Context) error {
	// synchronous=FULL is sqlite's default for a rollback journal; it is
	// set anyway because an acknowledged write must be on disk.
	for _, p := range []string{"PRAGMA foreign_keys=ON", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=5000"} {
		if _, err := s.conn.ExecContext(ctx, p); err != nil {
			return s.fail("open", err)
		}
	}
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("open", err)
	}
	defer tx.Rollback()
	names, err := hasTable(ctx, tx, "pyro_names")
	if err != nil {
		return s.fail("read schema", err)
	}
	meta, err := hasTable(ctx, tx, "pyro_metadata")
	if err != nil {
		return s.fail("read schema", err)
	}
	var stmts []string
	switch {
	case !names:
		stmts = []string{sqlCreateNames, sqlCreateMetadata}
	case !meta:
		// Pyro4's upgrade of a file from before metadata.
		stmts = []string{
			"ALTER TABLE pyro_names RENAME TO pyro_names_old",
			sqlCreateNames, sqlCreateMetadata,
			"INSERT INTO pyro_names(name, uri) SELECT name, uri FROM pyro_names_old",
			"DROP TABLE pyro_names_old",
		}
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return s.fail("create schema", err)
		}
	}
	if err := s.load(ctx, tx); err != nil {
		return err
	}
	if len(stmts) == 0 {
		return nil
	}
	if err := tx.Commit(); err != nil {
		return s.fail("create schema", err)
	}
	return nil
}

func hasTable(ctx context.Context, tx *sql.Tx, name string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", name).Scan(&n)
	return n > 0, err
}

// load reads every row into the index. The rows are read in id order (a
// sequential scan of the table) and sorted by name before they go into the
// B-tree, which fills it from left to right, much faster than inserting
// names in random order; each entry's place in the order is its id.
func (s *SQL) load(ctx context.Context, tx *sql.Tx) error {
	md := map[int64][]string{}
	rows, err := tx.QueryContext(ctx, "SELECT object, metadata FROM pyro_metadata")
	if err != nil {
		return s.fail("load", err)
	}
	for rows.Next() {
		var id int64
		var m string
		if err := rows.Scan(&id, &m); err != nil {
			rows.Close()
			return s.fail("load", err)
		}
		md[id] = append(md[id], m)
	}
	if err := rows.Close(); err != nil {
		return s.fail("load", err)
	}
	rows, err = tx.QueryContext(ctx, "SELECT id, name, uri FROM pyro_names ORDER BY id")
	if err != nil {
		return s.fail("load", err)
	}
	defer rows.Close()
	type loaded struct {
		name string // beside the entry, so the sort need not decode kv
		e    memEntry
	}
	var all []loaded
	for rows.Next() {
		var id int64
		var name, uri string
		if err := rows.Scan(&id, &name, &uri); err != nil {
			return s.fail("load", err)
		}
		if id <= 0 {
			return fmt.Errorf("store %s is %w: row id %d of %q is not positive", s.path, ErrDamaged, id, name)
		}
		if err := checkName(name); err != nil {
			return fmt.Errorf("store %s: load %q: %w", s.path, name, err)
		}
		all = append(all, loaded{name, newMemEntry(name, uri, NormalizeMetadata(md[id]), uint64(id))})
	}
	if err := rows.Err(); err != nil {
		return s.fail("load", err)
	}
	slices.SortFunc(all, func(a, b loaded) int { return strings.Compare(a.name, b.name) })
	entries := make([]memEntry, len(all))
	for i, l := range all {
		entries[i] = l.e
	}
	return s.index.load(entries)
}

func (s *SQL) fail(what string, err error) error {
	return fmt.Errorf("store %s: %s: %w", s.path, what, err)
}

// Path returns the file the store is kept in.
func (s *SQL) Path() string { return s.path }

// Get implements Store.
func (s *SQL) Get(name string) (Entry, bool, error) { return s.index.Get(name) }

// Range implements Store, in ascending row id.
func (s *SQL) Range(prefix string, fn func(e Entry) bool) error { return s.index.Range(prefix, fn) }

// RangeRegexOrder implements RegexOrderer: SqlStorage answers a regex
// listing by iterating its names, which sqlite reads from the UNIQUE index
// of pyro_names, in bytewise name order.
func (s *SQL) RangeRegexOrder(prefix string, fn func(e Entry) bool) error {
	return s.index.rangeByName(prefix, fn)
}

// Count implements Store.
func (s *SQL) Count() (int, error) { return s.index.Count() }

// Put implements Store.
func (s *SQL) Put(e Entry) error { return s.put(e, false) }

// PutNew implements Store.
func (s *SQL) PutNew(e Entry) error { return s.put(e, true) }

func (s *SQL) put(e Entry, onlyNew bool) error {
	if err := checkName(e.Name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	_, existed, err := s.index.Get(e.Name)
	if err != nil {
		return err
	}
	if existed && onlyNew {
		return ErrExists
	}
	return s.replace(fmt.Sprintf("register %q", e.Name), e)
}

// SetMetadata implements Store. As in Pyro4 it rewrites the row, which
// moves the entry to the end.
func (s *SQL) SetMetadata(name string, metadata []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	old, ok, err := s.index.Get(name)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	old.Metadata = metadata
	return s.replace(fmt.Sprintf("set metadata of %q", name), old)
}

// replace does SqlStorage.__setitem__ in one transaction: the old row and
// its metadata deleted, a new row inserted with the new metadata. The
// caller holds s.mu.
func (s *SQL) replace(what string, e Entry) error {
	md := NormalizeMetadata(e.Metadata)
	e.Metadata = md
	var id int64
	err := s.write(func(ctx context.Context, tx *sql.Tx) error {
		var err error
		id, err = insertRow(ctx, tx, e)
		return err
	})
	if err != nil {
		return s.fail(what, err)
	}
	return s.index.putAt(e, uint64(id))
}

// insertRow replaces e's row (and metadata rows) by a new one and returns
// its id.
func insertRow(ctx context.Context, tx *sql.Tx, e Entry) (int64, error) {
	if err := deleteRow(ctx, tx, e.Name); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO pyro_names(name, uri) VALUES(?,?)", e.Name, e.URI)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	for _, m := range NormalizeMetadata(e.Metadata) {
		if _, err := tx.ExecContext(ctx, "INSERT INTO pyro_metadata(object, metadata) VALUES (?,?)", id, m); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// deleteRow removes name's row and its metadata, as SqlStorage does.
func deleteRow(ctx context.Context, tx *sql.Tx, name string) error {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM pyro_names WHERE name=?", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM pyro_metadata WHERE object=?", id); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "DELETE FROM pyro_names WHERE id=?", id)
	return err
}

// write runs fn in one transaction and commits it; sqlite syncs the
// journal and the database before the commit returns. The caller holds s.mu.
func (s *SQL) write(fn func(ctx context.Context, tx *sql.Tx) error) error {
	ctx := context.Background()
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Delete implements Store.
func (s *SQL) Delete(name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ErrClosed
	}
	if _, ok, err := s.index.Get(name); err != nil || !ok {
		return false, err
	}
	err := s.write(func(ctx context.Context, tx *sql.Tx) error { return deleteRow(ctx, tx, name) })
	if err != nil {
		return false, s.fail(fmt.Sprintf("remove %q", name), err)
	}
	return s.index.Delete(name)
}

// DeleteMatching implements Store: every row in one transaction, as
// SqlStorage.remove_items does.
func (s *SQL) DeleteMatching(prefix string, match func(name string) bool) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	var names []string
	err := s.index.Range(prefix, func(e Entry) bool {
		if match == nil || match(e.Name) {
			names = append(names, e.Name)
		}
		return true
	})
	if err != nil || len(names) == 0 {
		return nil, err
	}
	err = s.write(func(ctx context.Context, tx *sql.Tx) error {
		for _, n := range names {
			if err := deleteRow(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(fmt.Sprintf("remove names with prefix %q", prefix), err)
	}
	if err := s.index.deleteAll(names); err != nil {
		return nil, err
	}
	return slices.Clip(names), nil
}

// Close implements Store.
func (s *SQL) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	_ = s.index.Close()
	err := errors.Join(s.conn.Close(), s.db.Close())
	// The lock goes last: closing any descriptor of the file drops the
	// process's POSIX locks on it, sqlite's among them.
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}
