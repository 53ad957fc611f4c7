package persist

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// write queues fn and waits until its batch is committed and synced.
func (b *Bolt) write(what string, fn func(tx *bolt.Tx) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	err := b.w.broken()
	if err == nil {
		op := &writeOp{fn: fn, done: make(chan error, 1)}
		b.w.ops <- op
		err = <-op.done
	}
	switch {
	case err == nil, errors.Is(err, ErrExists), errors.Is(err, ErrNotFound):
		return err
	case errors.As(err, new(faultError)):
		return fmt.Errorf("store %s is %w: %s: %v", b.path, ErrDamaged, what, err)
	default:
		return fmt.Errorf("store %s: %s: %w", b.path, what, err)
	}
}

// addCount adjusts the entry count in the same transaction as the change
// it reflects, so the two cannot disagree after a crash.
func addCount(tx *bolt.Tx, delta int) error {
	meta := tx.Bucket(metaBucket)
	v := meta.Get(countKey)
	if len(v) != 8 {
		return fmt.Errorf("%w: bad entry count", ErrDamaged)
	}
	n := int64(binary.BigEndian.Uint64(v)) + int64(delta)
	if n < 0 {
		return fmt.Errorf("%w: entry count below zero", ErrDamaged)
	}
	return meta.Put(countKey, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// Put implements Store.
func (b *Bolt) Put(e Entry) error {
	return b.put(e, false)
}

// PutNew implements Store. Whether the name exists is decided inside the
// transaction that writes it, so two concurrent PutNew calls for one name
// cannot both succeed.
func (b *Bolt) PutNew(e Entry) error {
	return b.put(e, true)
}

func (b *Bolt) put(e Entry, onlyNew bool) error {
	if err := checkName(e.Name); err != nil {
		return err
	}
	return b.write(fmt.Sprintf("register %q", e.Name), putOp(e, onlyNew))
}

// The op builders below return functions that may run several times (see
// the committer): each run starts from the transaction's state and resets
// the results it reports.

// takeSeq returns the next sequence number and advances it, in the
// transaction that uses it.
func takeSeq(tx *bolt.Tx) (uint64, error) {
	meta := tx.Bucket(metaBucket)
	v := meta.Get(nextKey)
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: bad sequence number", ErrDamaged)
	}
	seq := binary.BigEndian.Uint64(v)
	return seq, meta.Put(nextKey, seqKey(seq+1))
}

// oldSeq is the sequence number of the stored value v.
func oldSeq(v []byte) (uint64, error) {
	r, err := decodeRecord(v)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return r.seq, nil
}

func putOp(e Entry, onlyNew bool) func(tx *bolt.Tx) error {
	key, md := nameKey(e.Name), NormalizeMetadata(e.Metadata)
	return func(tx *bolt.Tx) error {
		names := tx.Bucket(namesBucket)
		old := names.Get(key)
		if old != nil && onlyNew {
			return refusal{ErrExists}
		}
		// A replaced entry keeps its place, as in a Python dict. One whose
		// value is damaged has lost its place and goes last; the order
		// entry it leaves behind no longer matches and is skipped.
		if old != nil {
			if seq, err := oldSeq(old); err == nil {
				return names.Put(key, encodeRecord(seq, e.URI, md))
			}
		}
		seq, err := takeSeq(tx)
		if err != nil {
			return err
		}
		if err := names.Put(key, encodeRecord(seq, e.URI, md)); err != nil {
			return err
		}
		if err := tx.Bucket(orderBucket).Put(seqKey(seq), key); err != nil {
			return err
		}
		if old != nil {
			return nil
		}
		return addCount(tx, 1)
	}
}

// SetMetadata implements Store.
func (b *Bolt) SetMetadata(name string, metadata []string) error {
	return b.write(fmt.Sprintf("set metadata of %q", name), setMetadataOp(name, metadata))
}

func setMetadataOp(name string, metadata []string) func(tx *bolt.Tx) error {
	key, md := nameKey(name), NormalizeMetadata(metadata)
	return func(tx *bolt.Tx) error {
		names := tx.Bucket(namesBucket)
		old := names.Get(key)
		if old == nil {
			return refusal{ErrNotFound}
		}
		r, err := decodeRecord(old)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		return names.Put(key, encodeRecord(r.seq, r.uri, md))
	}
}

// Delete implements Store.
func (b *Bolt) Delete(name string) (bool, error) {
	var existed bool
	err := b.write(fmt.Sprintf("remove %q", name), deleteOp(name, &existed))
	return existed && err == nil, err
}

func deleteOp(name string, existed *bool) func(tx *bolt.Tx) error {
	key := nameKey(name)
	return func(tx *bolt.Tx) error {
		names := tx.Bucket(namesBucket)
		old := names.Get(key)
		*existed = old != nil
		if !*existed {
			return nil
		}
		// A damaged value can still be removed; its order entry, which
		// cannot be found, is skipped by listings once the name is gone.
		if seq, err := oldSeq(old); err == nil {
			if err := tx.Bucket(orderBucket).Delete(seqKey(seq)); err != nil {
				return err
			}
		}
		if err := names.Delete(key); err != nil {
			return err
		}
		return addCount(tx, -1)
	}
}

// DeleteMatching implements Store. match runs in the committer's goroutine.
func (b *Bolt) DeleteMatching(prefix string, match func(name string) bool) ([]string, error) {
	var removed []string
	err := b.write(fmt.Sprintf("remove names with prefix %q", prefix), deleteMatchingOp(prefix, match, &removed))
	if err != nil || len(removed) == 0 {
		return nil, err
	}
	return removed, nil
}

func deleteMatchingOp(prefix string, match func(name string) bool, removed *[]string) func(tx *bolt.Tx) error {
	start := nameKey(prefix)
	type hit struct {
		seq  uint64
		name string
	}
	return func(tx *bolt.Tx) error {
		*removed = (*removed)[:0]
		names, order := tx.Bucket(namesBucket), tx.Bucket(orderBucket)
		// Collect first: deleting under a bbolt cursor makes it skip keys.
		var hits []hit
		c := names.Cursor()
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, start); k, v = c.Next() {
			if name := string(k[1:]); match == nil || match(name) {
				seq, _ := oldSeq(v) // a damaged value (0) goes first and leaves no order entry
				hits = append(hits, hit{seq, name})
			}
		}
		slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(a.seq, b.seq) })
		for _, h := range hits {
			if err := names.Delete(nameKey(h.name)); err != nil {
				return err
			}
			*removed = append(*removed, h.name)
			if h.seq == 0 {
				continue
			}
			if err := order.Delete(seqKey(h.seq)); err != nil {
				return err
			}
		}
		if len(*removed) == 0 {
			return nil
		}
		return addCount(tx, -len(*removed))
	}
}
