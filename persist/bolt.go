package persist

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultLockTimeout is how long OpenBolt waits for the file lock when
// BoltOptions.LockTimeout is zero. A name server that exits releases the lock
// at once, so a longer wait would only delay the report of a real conflict.
const DefaultLockTimeout = 200 * time.Millisecond

// DefaultMaxBatch is the number of writes that may share one commit when
// BoltOptions.MaxBatch is zero.
const DefaultMaxBatch = 1024

// BoltOptions tunes OpenBolt. The zero value is the recommended setting.
type BoltOptions struct {
	// LockTimeout bounds the wait for a file locked by another process (or
	// another OpenBolt in this one); 0 means DefaultLockTimeout.
	LockTimeout time.Duration
	// MaxBatch caps how many concurrent writes are grouped into one commit;
	// 0 means DefaultMaxBatch.
	MaxBatch int
}

// ErrInUse is wrapped by OpenBolt's error when another name server holds the file.
var ErrInUse = errors.New("in use by another name server")

// ErrNotStore is wrapped by OpenBolt's error when the file exists but is not
// a store this package wrote; such a file is left untouched.
var ErrNotStore = errors.New("not a pyro4 name server store")

// ErrDamaged is wrapped by errors reporting a store file whose contents are
// inconsistent (truncated, overwritten, a record that does not decode).
var ErrDamaged = errors.New("damaged")

// The file layout: bucket "meta" holds the format marker, the format
// version, the entry count and the next sequence number; bucket "names" maps
// keyPrefix+name to a record (see record.go) that carries the entry's
// sequence number; bucket "order" maps that number (8 bytes, big-endian) to
// keyPrefix+name, so that a walk of it is registration order. Every name
// key carries keyPrefix because bbolt refuses empty keys and Pyro4 accepts
// the empty name.
//
// Version 1 had no order: such a file is upgraded in one transaction when
// it is opened, its entries numbered in name order.
var (
	metaBucket   = []byte("meta")
	namesBucket  = []byte("names")
	orderBucket  = []byte("order")
	formatKey    = []byte("format")
	versionKey   = []byte("version")
	countKey     = []byte("count")
	nextKey      = []byte("next")
	formatMarker = []byte("pyro4 name server store")
)

const (
	formatVersion  = 2
	formatVersion1 = 1 // upgraded on open
	keyPrefix      = 'n'
)

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func nameKey(name string) []byte {
	k := make([]byte, 1+len(name))
	k[0] = keyPrefix
	copy(k[1:], name)
	return k
}

// Bolt is a Store kept in a bbolt file. Reads run in read transactions and
// never wait for writes; writes are committed and fsynced before they return,
// with concurrent writes grouped into one commit (see bolt_commit.go). The
// file is locked against other processes while open, and nothing is loaded
// into memory at open, so opening a large store is quick.
type Bolt struct {
	path string
	db   *bolt.DB
	file *os.File // bbolt's own descriptor, for Close after a fault
	w    *committer

	// mu orders Close after the calls in flight: calls hold it shared.
	mu     sync.RWMutex
	closed bool
}

// OpenBolt opens the store in the file at path, creating it when the path
// does not exist. A file that is not a store this package wrote (another
// bbolt database, any other file, even an empty one) is refused and never
// written to. The error names the file and wraps ErrInUse, ErrNotStore or
// ErrDamaged where one applies.
func OpenBolt(path string, opts BoltOptions) (*Bolt, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if err := ensureStoreDir(path); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := createStore(path, opts); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("store %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("store %s is %w: not a regular file", path, ErrNotStore)
	case fi.Size() == 0:
		return nil, fmt.Errorf("store %s is %w: the file is empty (remove it to start a new store)", path, ErrNotStore)
	}
	// Check the file in read-only mode first: bbolt may write to a file it
	// opens for writing, and a file we do not recognise must stay as it is.
	version, err := checkStore(path, opts)
	if err != nil {
		return nil, err
	}
	db, file, err := openDB(path, opts, false)
	if err != nil {
		return nil, err
	}
	if version == formatVersion1 {
		if err := upgrade(path, db); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return &Bolt{path: path, db: db, file: file, w: startCommitter(db, opts.MaxBatch)}, nil
}

// openDB opens path with bbolt under the fault guard, translating a lock
// timeout into ErrInUse.
func openDB(path string, opts BoltOptions, readOnly bool) (db *bolt.DB, file *os.File, err error) {
	bopts := &bolt.Options{
		Timeout:      opts.LockTimeout,
		ReadOnly:     readOnly,
		FreelistType: bolt.FreelistMapType,
		NoStatistics: true, // unused, and counting takes a lock per transaction
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	err = guard(func() error {
		var err error
		db, err = bolt.Open(path, 0o644, bopts)
		return err
	})
	var fault faultError
	switch {
	case err == nil:
		return db, file, nil
	case errors.As(err, &fault):
		// bbolt did not get to clean up: closing the file drops its lock.
		if file != nil {
			_ = file.Close()
		}
		return nil, nil, fmt.Errorf("store %s is %w: %v", path, ErrDamaged, err)
	case errors.Is(err, bolt.ErrTimeout):
		return nil, nil, fmt.Errorf("store %s is %w (the file stayed locked for %v)", path, ErrInUse, opts.LockTimeout)
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrVersionMismatch),
		// bbolt has no sentinel for a file shorter than its two meta pages,
		// which a small foreign file (a sqlite file of one or two pages) is.
		strings.HasPrefix(err.Error(), "file size too small"):
		return nil, nil, fmt.Errorf("store %s is %w: not a bbolt database (%v); the file was left untouched", path, ErrNotStore, err)
	case errors.Is(err, bolt.ErrChecksum):
		return nil, nil, fmt.Errorf("store %s is %w: both bbolt meta pages fail their checksum; the file was left untouched", path, ErrDamaged)
	default:
		return nil, nil, fmt.Errorf("store %s: open: %w", path, err)
	}
}

// checkStore verifies, without writing, that path is one of our stores,
// and returns its format version.
func checkStore(path string, opts BoltOptions) (version uint64, err error) {
	db, _, err := openDB(path, opts, true)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	err = guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			version, err = checkLayout(path, tx)
			if err != nil {
				return err
			}
			return checkPages(path, tx) // bolt_check.go
		})
	})
	if errors.As(err, new(faultError)) {
		return 0, fmt.Errorf("store %s is %w: %v; the file was left untouched", path, ErrDamaged, err)
	}
	return version, err
}

func checkLayout(path string, tx *bolt.Tx) (uint64, error) {
	v, err := checkMeta(path, tx)
	if err != nil {
		return 0, err
	}
	if v == formatVersion && (len(tx.Bucket(metaBucket).Get(nextKey)) != 8 || tx.Bucket(orderBucket) == nil) {
		return 0, fmt.Errorf("store %s is %w: the sequence number or the order bucket is missing; the file was left untouched", path, ErrDamaged)
	}
	return v, nil
}

func checkMeta(path string, tx *bolt.Tx) (uint64, error) {
	// bbolt maps the file without checking its length: a truncated file
	// would fault on the first access past its end.
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", path, err)
	}
	if fi.Size() < tx.Size() {
		return 0, fmt.Errorf("store %s is %w: truncated to %d bytes, the database needs %d; the file was left untouched", path, ErrDamaged, fi.Size(), tx.Size())
	}
	meta := tx.Bucket(metaBucket)
	if meta == nil || !bytes.Equal(meta.Get(formatKey), formatMarker) {
		return 0, fmt.Errorf("store %s is %w: a bbolt database without the pyro4 format marker, written by another program; the file was left untouched", path, ErrNotStore)
	}
	v, n := binary.Uvarint(meta.Get(versionKey))
	if n <= 0 {
		return 0, fmt.Errorf("store %s is %w: bad format version; the file was left untouched", path, ErrDamaged)
	}
	if v != formatVersion && v != formatVersion1 {
		return 0, fmt.Errorf("store %s has format version %d, this program reads version %d; the file was left untouched", path, v, formatVersion)
	}
	if len(meta.Get(countKey)) != 8 || tx.Bucket(namesBucket) == nil {
		return 0, fmt.Errorf("store %s is %w: the entry count or the names bucket is missing; the file was left untouched", path, ErrDamaged)
	}
	return v, nil
}

// createStore makes a new, empty store at path. It builds the store under a
// temporary name and links it into place, so that a crash never leaves a
// half-made file (a bbolt database still without its format marker would be
// refused as foreign ever after), and so that a file created meanwhile by
// someone else is never replaced.
func createStore(path string, opts BoltOptions) (err error) {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".new-"+hex.EncodeToString(rnd[:]))
	defer func() {
		if rmErr := os.Remove(tmp); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("store %s: remove %s: %w", path, tmp, rmErr)
		}
	}()
	db, _, err := openDB(tmp, opts, false)
	if err != nil {
		// The temporary name is ours, not the user's: the error names path.
		return describeCreateError(path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(namesBucket); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(orderBucket); err != nil {
			return err
		}
		if err := meta.Put(nextKey, seqKey(1)); err != nil {
			return err
		}
		if err := meta.Put(formatKey, formatMarker); err != nil {
			return err
		}
		if err := meta.Put(versionKey, binary.AppendUvarint(nil, formatVersion)); err != nil {
			return err
		}
		return meta.Put(countKey, make([]byte, 8))
	})
	if closeErr := db.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("create store %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // someone else made it first; the caller checks what it is
		}
		// Some file systems have no hard links. Renaming can replace a file
		// made in the last instant, so look first.
		if _, statErr := os.Lstat(path); statErr == nil {
			return nil
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("create store %s: %w", path, err)
		}
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a new directory entry durable: fsync on the file alone does
// not cover the name that points to it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// faultError is a panic or memory fault turned into an error.
type faultError struct{ v any }

func (f faultError) Error() string { return faultText(f.v) }

// guard runs fn, turning a panic or a fault in bbolt's memory map (as a
// damaged file can cause) into an error rather than a crash.
func guard(fn func() error) error {
	err, _ := guarded(fn)
	return err
}

// guarded is guard that also tells whether the error is from a panic in fn
// itself rather than a faultError fn returned.
func guarded(fn func() error) (err error, panicked bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err, panicked = faultError{r}, true
		}
	}()
	return fn(), false
}

// view runs fn in a read transaction on an open store, with the bucket
// named (names or meta).
func (b *Bolt) view(bucket []byte, fn func(*bolt.Bucket) error) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	err := guard(func() error {
		return b.db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucket)) })
	})
	if errors.As(err, new(faultError)) {
		return fmt.Errorf("store %s is %w: %v", b.path, ErrDamaged, err)
	}
	return err
}

func (b *Bolt) damaged(name string, err error) error {
	return fmt.Errorf("store %s is %w: entry %q: %v", b.path, ErrDamaged, name, err)
}

// Path returns the file the store is kept in.
func (b *Bolt) Path() string { return b.path }

// Get implements Store.
func (b *Bolt) Get(name string) (e Entry, ok bool, err error) {
	err = b.view(namesBucket, func(names *bolt.Bucket) error {
		v := names.Get(nameKey(name))
		if v == nil {
			return nil
		}
		r, err := decodeRecord(v)
		if err != nil {
			return b.damaged(name, err)
		}
		e, ok = Entry{Name: name, URI: r.uri, Metadata: r.md}, true
		return nil
	})
	return e, ok, err
}

// Range implements Store. A prefix is found in the names bucket and its
// entries sorted by their sequence numbers; the whole store is a walk of
// the order bucket, which needs no sort but a look-up per entry.
func (b *Bolt) Range(prefix string, fn func(e Entry) bool) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	err := guard(func() error {
		return b.db.View(func(tx *bolt.Tx) error {
			if prefix == "" {
				return b.rangeAll(tx, fn)
			}
			return b.rangePrefix(tx, prefix, fn)
		})
	})
	if errors.As(err, new(faultError)) {
		return fmt.Errorf("store %s is %w: %v", b.path, ErrDamaged, err)
	}
	return err
}

func (b *Bolt) rangeAll(tx *bolt.Tx, fn func(e Entry) bool) error {
	names := tx.Bucket(namesBucket)
	c := tx.Bucket(orderBucket).Cursor()
	for k, key := c.First(); k != nil; k, key = c.Next() {
		if len(key) == 0 {
			return b.damaged("", fmt.Errorf("empty key in the order bucket"))
		}
		name := string(key[1:])
		v := names.Get(key)
		if v == nil {
			continue // left by the removal of a damaged value
		}
		r, err := decodeRecord(v)
		if err != nil {
			return b.damaged(name, err)
		}
		if r.seq != binary.BigEndian.Uint64(k) {
			continue // the name was re-made after damage and listed at its new place
		}
		if !fn(Entry{Name: name, URI: r.uri, Metadata: r.md}) {
			return nil
		}
	}
	return nil
}

func (b *Bolt) rangePrefix(tx *bolt.Tx, prefix string, fn func(e Entry) bool) error {
	type hit struct {
		seq uint64
		e   Entry
	}
	var hits []hit
	start := nameKey(prefix)
	c := tx.Bucket(namesBucket).Cursor()
	for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, start); k, v = c.Next() {
		name := string(k[1:])
		r, err := decodeRecord(v)
		if err != nil {
			return b.damaged(name, err)
		}
		hits = append(hits, hit{r.seq, Entry{Name: name, URI: r.uri, Metadata: r.md}})
	}
	slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(a.seq, b.seq) })
	for _, h := range hits {
		if !fn(h.e) {
			break
		}
	}
	return nil
}

// Count implements Store. It reads a counter kept in step with the entries,
// so it does not walk the file.
func (b *Bolt) Count() (n int, err error) {
	err = b.view(metaBucket, func(meta *bolt.Bucket) error {
		v := meta.Get(countKey)
		if len(v) != 8 {
			return fmt.Errorf("store %s is %w: bad entry count", b.path, ErrDamaged)
		}
		n = int(binary.BigEndian.Uint64(v))
		return nil
	})
	return n, err
}

// Close implements Store. It waits for the calls in flight.
func (b *Bolt) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.w.stop()
	if b.w.broken() != nil {
		// bbolt failed inside a write transaction and may still hold its
		// writer lock, on which DB.Close would wait forever. Closing the
		// descriptor releases the file lock; the mapping is left behind.
		if err := b.file.Close(); err != nil {
			return fmt.Errorf("close store %s: %w", b.path, err)
		}
		return nil
	}
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", b.path, err)
	}
	return nil
}
