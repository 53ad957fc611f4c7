package persist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// upgradeChunk is how many entries the upgrade rewrites between two seeks
// of its cursor: bbolt cursors are not safe across writes to their bucket.
const upgradeChunk = 4096

// upgrade turns a version 1 file into the current format in one
// transaction, so that a crash leaves either the old file or the new one.
// Version 1 kept no registration order; its entries are numbered in name
// order, the order in which it listed them, once, and from then on new
// names go after them.
func upgrade(path string, db *bolt.DB) error {
	err := guard(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			// Check again under the writer's lock: another process may have
			// upgraded the file between the check and this transaction.
			meta := tx.Bucket(metaBucket)
			if v, _ := binary.Uvarint(meta.Get(versionKey)); v != formatVersion1 {
				return nil
			}
			order, err := tx.CreateBucketIfNotExists(orderBucket)
			if err != nil {
				return err
			}
			names := tx.Bucket(namesBucket)
			seq := uint64(1)
			var after []byte // last key rewritten
			for {
				keys, vals, err := upgradeBatch(names, after)
				if err != nil {
					return err
				}
				if len(keys) == 0 {
					break
				}
				for i, k := range keys {
					r, err := decodeRecord(vals[i])
					if err != nil {
						return fmt.Errorf("%w: entry %q: %v", ErrDamaged, k[1:], err)
					}
					if err := names.Put(k, encodeRecord(seq, r.uri, r.md)); err != nil {
						return err
					}
					if err := order.Put(seqKey(seq), k); err != nil {
						return err
					}
					seq++
				}
				after = keys[len(keys)-1]
			}
			if err := meta.Put(nextKey, seqKey(seq)); err != nil {
				return err
			}
			return meta.Put(versionKey, binary.AppendUvarint(nil, formatVersion))
		})
	})
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(faultError)), errors.Is(err, ErrDamaged):
		return fmt.Errorf("store %s: upgrade to format version %d: %w", path, formatVersion, errors.Join(ErrDamaged, err))
	default:
		return fmt.Errorf("store %s: upgrade to format version %d: %w", path, formatVersion, err)
	}
}

// upgradeBatch copies the next upgradeChunk keys and values after the key
// after (from the first key when nil).
func upgradeBatch(names *bolt.Bucket, after []byte) (keys, vals [][]byte, err error) {
	c := names.Cursor()
	k, v := c.First()
	if after != nil {
		k, v = c.Seek(after)
		if k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	for ; k != nil && len(keys) < upgradeChunk; k, v = c.Next() {
		if len(k) == 0 || k[0] != keyPrefix {
			return nil, nil, fmt.Errorf("%w: a key without the name prefix", ErrDamaged)
		}
		keys = append(keys, bytes.Clone(k))
		vals = append(vals, bytes.Clone(v))
	}
	return keys, vals, nil
}
