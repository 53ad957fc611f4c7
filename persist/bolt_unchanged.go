package persist

import (
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// DeleteUnchanged implements UnchangedDeleter: one write, committed and
// synced like any other, that compares each entry's stored record with
// the one given before removing it as Delete would.
func (b *Bolt) DeleteUnchanged(entries []Entry) ([]string, error) {
	var removed []string
	err := b.write(fmt.Sprintf("remove %d names", len(entries)), deleteUnchangedOp(entries, &removed))
	if err != nil || len(removed) == 0 {
		return nil, err
	}
	return removed, nil
}

func deleteUnchangedOp(entries []Entry, removed *[]string) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		*removed = (*removed)[:0]
		names := tx.Bucket(namesBucket)
		for _, e := range entries {
			v := names.Get(nameKey(e.Name))
			if v == nil {
				continue
			}
			rec, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("%w: entry %q: %v", ErrDamaged, e.Name, err)
			}
			if rec.uri != e.URI || !slices.Equal(rec.md, e.Metadata) {
				continue
			}
			var existed bool
			if err := deleteOp(e.Name, &existed)(tx); err != nil {
				return err
			}
			*removed = append(*removed, e.Name)
		}
		return nil
	}
}
