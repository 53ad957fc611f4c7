package persist

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// readBolt reads every entry of the store at path in registration order,
// opening it read-only: a version 1 file is read in name order, its only
// order, and not upgraded.
func readBolt(path string) ([]Entry, error) {
	opts := BoltOptions{LockTimeout: DefaultLockTimeout}
	version, err := checkStore(path, opts)
	if err != nil {
		return nil, err
	}
	db, _, err := openDB(path, opts, true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var out []Entry
	b := &Bolt{path: path}
	err = guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			out = out[:0]
			if version == formatVersion1 {
				c := tx.Bucket(namesBucket).Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					r, err := decodeRecord(v)
					if err != nil {
						return b.damaged(string(k[1:]), err)
					}
					out = append(out, Entry{Name: string(k[1:]), URI: r.uri, Metadata: r.md})
				}
				return nil
			}
			return b.rangeAll(tx, func(e Entry) bool { out = append(out, e); return true })
		})
	})
	if errors.As(err, new(faultError)) {
		return nil, fmt.Errorf("store %s is %w: %v", path, ErrDamaged, err)
	}
	return out, err
}

// importEntries writes entries in transactions of importChunk, each synced,
// as Puts in that order would (an existing name keeps its place).
func (b *Bolt) importEntries(entries []Entry, progress func(int)) error {
	for _, e := range entries {
		if err := checkName(e.Name); err != nil {
			return fmt.Errorf("store %s: %q: %w", b.path, e.Name, err)
		}
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	for start := 0; start < len(entries); start += importChunk {
		chunk := entries[start:min(start+importChunk, len(entries))]
		err := guard(func() error {
			return b.db.Update(func(tx *bolt.Tx) error {
				for _, e := range chunk {
					if err := putOp(e, false)(tx); err != nil {
						return fmt.Errorf("register %q: %w", e.Name, err)
					}
				}
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("store %s: %w", b.path, err)
		}
		progress(start + len(chunk))
	}
	return nil
}
