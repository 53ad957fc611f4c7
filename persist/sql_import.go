package persist

import (
	"context"
	"database/sql"
	"fmt"
)

// readSQL reads every entry of Pyro4's sqlite file at path in row id
// order, opening it read-only (a file of Pyro4's older layout, without
// pyro_metadata, is read as it is, not upgraded). A file a name server of
// ours holds is refused.
func readSQL(path string) ([]Entry, error) {
	if err := refuseForeignFile(path); err != nil {
		return nil, err
	}
	held, err := lockHeld(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if held {
		return nil, fmt.Errorf("store %s is %w", path, ErrInUse)
	}
	dsn, err := sqlDSN(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn+"?mode=ro")
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	defer db.Close()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store %s: open: %w", path, err)
	}
	defer tx.Rollback()
	names, err := hasTable(ctx, tx, "pyro_names")
	if err != nil {
		return nil, fmt.Errorf("store %s: read schema: %w", path, err)
	}
	if !names {
		return nil, fmt.Errorf("store %s is %w: a sqlite database without Pyro4's pyro_names table", path, ErrNotStore)
	}
	meta, err := hasTable(ctx, tx, "pyro_metadata")
	if err != nil {
		return nil, fmt.Errorf("store %s: read schema: %w", path, err)
	}
	// The index of a throwaway store gives the entries in id order.
	s := &SQL{path: path, index: NewMemory()}
	if meta {
		err = s.load(ctx, tx)
	} else {
		err = s.loadNames(ctx, tx)
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	err = s.index.Range("", func(e Entry) bool { out = append(out, e); return true })
	return out, err
}

// loadNames loads a file of the layout before metadata.
func (s *SQL) loadNames(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, name, uri FROM pyro_names ORDER BY id")
	if err != nil {
		return s.fail("load", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name, uri string
		if err := rows.Scan(&id, &name, &uri); err != nil {
			return s.fail("load", err)
		}
		if err := s.index.putAt(Entry{Name: name, URI: uri}, uint64(id)); err != nil {
			return fmt.Errorf("store %s: load %q: %w", s.path, name, err)
		}
	}
	return rows.Err()
}

// importEntries writes entries in transactions of importChunk, each a
// DELETE and INSERT per entry as SqlStorage writes one.
func (s *SQL) importEntries(entries []Entry, progress func(int)) error {
	for _, e := range entries {
		if err := checkName(e.Name); err != nil {
			return fmt.Errorf("store %s: %q: %w", s.path, e.Name, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	for start := 0; start < len(entries); start += importChunk {
		chunk := entries[start:min(start+importChunk, len(entries))]
		ids := make([]int64, len(chunk))
		err := s.write(func(ctx context.Context, tx *sql.Tx) error {
			for i, e := range chunk {
				id, err := insertRow(ctx, tx, e)
				if err != nil {
					return fmt.Errorf("register %q: %w", e.Name, err)
				}
				ids[i] = id
			}
			return nil
		})
		if err != nil {
			return s.fail("import", err)
		}
		for i, e := range chunk {
			if err := s.index.putAt(e, uint64(ids[i])); err != nil {
				return s.fail("import", err)
			}
		}
		progress(start + len(chunk))
	}
	return nil
}
