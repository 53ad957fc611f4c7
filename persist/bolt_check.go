package persist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"regexp"
	"runtime"

	bolt "go.etcd.io/bbolt"
)

// The consistency check at open walks the file's pages itself, with plain
// reads, instead of through bbolt: bbolt trusts every page id and offset it
// finds, so a damaged page makes it panic with assertion text, read past
// its memory map (a fault that only SetPanicOnFault in the same goroutine
// turns into a panic), or loop; its own Tx.Check runs in a goroutine of its
// own, where such a fault would end the process. The walk checks what
// bbolt's Tx.Check checks: every page below the high-water mark is either
// in the tree exactly once or on the free list, never both; each page
// names its own id and a known type; elements and keys lie inside their
// page; keys are in order within a page and within the range their parent
// gives them. It also counts the names and compares the count kept in the
// meta bucket. It reads each page once and holds one page per tree level,
// so its cost is a read of the file (docs/reliability.md has the figures).

// The on-disk layout of bbolt 1.x (its internal/common package): a page
// header, then elements; the meta page's fields; bucket values.
const (
	pageHeaderSize = 16 // id uint64, flags uint16, count uint16, overflow uint32
	elementSize    = 16 // branch: pos, ksize uint32, pgid uint64; leaf: flags, pos, ksize, vsize uint32
	bucketHeader   = 16 // root pgid uint64, sequence uint64

	branchPage   = 0x01
	leafPage     = 0x02
	metaPage     = 0x04
	freelistPage = 0x10
	bucketLeaf   = 0x01

	boltMagic   = 0xED0CDAED
	boltVersion = 2
	noFreelist  = ^uint64(0)
	maxDepth    = 64 // a bbolt tree of 2^64 keys is far shallower
)

// bbolt writes its structures in the machine's own byte order.
var ne = binary.NativeEndian

// boltMeta is the part of a meta page the walk needs.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	hwm      uint64 // pages in use: ids below it
	txid     uint64
}

// checkPages verifies the file at path page by page, as of the
// transaction tx (read-only, so the file cannot change meanwhile).
func checkPages(path string, tx *bolt.Tx) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	defer f.Close()
	w := &pageWalker{f: f, pageSize: tx.DB().Info().PageSize}
	err = w.check(uint64(tx.ID()))
	var d damage
	if errors.As(err, &d) {
		return fmt.Errorf("store %s is %w: %v; the file was left untouched", path, ErrDamaged, d)
	}
	if err != nil {
		return fmt.Errorf("store %s: check: %w", path, err)
	}
	if n := w.counts["names"]; n != storedCount(tx) {
		return fmt.Errorf("store %s is %w: it holds %d names but records %d; the file was left untouched", path, ErrDamaged, n, storedCount(tx))
	}
	return nil
}

func storedCount(tx *bolt.Tx) int64 {
	return int64(binary.BigEndian.Uint64(tx.Bucket(metaBucket).Get(countKey)))
}

// damage is an inconsistency the walk found, as opposed to an I/O error.
type damage struct{ msg string }

func (d damage) Error() string { return d.msg }

func damaged(format string, args ...any) error { return damage{fmt.Sprintf(format, args...)} }

type pageWalker struct {
	f        *os.File
	pageSize int
	meta     boltMeta
	freed    []bool
	seen     []bool
	bufs     [maxDepth + 1][]byte // one page buffer per tree level
	counts   map[string]int64     // key/value pairs per top-level bucket
}

func (w *pageWalker) check(txid uint64) error {
	m, err := w.readMeta(txid)
	if err != nil {
		return err
	}
	w.meta = m
	w.freed = make([]bool, m.hwm)
	w.seen = make([]bool, m.hwm)
	w.seen[0], w.seen[1] = true, true
	w.counts = make(map[string]int64)
	if m.freelist != noFreelist {
		if err := w.readFreelist(); err != nil {
			return err
		}
	}
	if _, err := w.walkBucket(m.root, nil, nil, 0); err != nil {
		return err
	}
	if m.freelist == noFreelist {
		return nil // without a stored free list, unreached pages may be free
	}
	for id := uint64(2); id < m.hwm; id++ {
		if !w.seen[id] && !w.freed[id] {
			return damaged("page %d is neither in use nor free", id)
		}
	}
	return nil
}

// readMeta picks the meta page bbolt picked: the one of transaction txid.
func (w *pageWalker) readMeta(txid uint64) (boltMeta, error) {
	for i := range 2 {
		b := make([]byte, w.pageSize)
		if _, err := w.f.ReadAt(b, int64(i*w.pageSize)); err != nil {
			return boltMeta{}, fmt.Errorf("read meta page %d: %w", i, err)
		}
		m := b[pageHeaderSize:]
		h := fnv.New64a()
		h.Write(m[:56]) // the fields before the checksum
		if ne.Uint16(b[8:]) != metaPage || ne.Uint32(m) != boltMagic || ne.Uint32(m[4:]) != boltVersion || ne.Uint64(m[56:]) != h.Sum64() {
			continue
		}
		meta := boltMeta{pageSize: ne.Uint32(m[8:]), root: ne.Uint64(m[16:]), freelist: ne.Uint64(m[32:]),
			hwm: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:])}
		if meta.txid != txid {
			continue
		}
		if int(meta.pageSize) != w.pageSize {
			return boltMeta{}, damaged("meta page %d gives page size %d, the file is read with %d", i, meta.pageSize, w.pageSize)
		}
		fi, err := w.f.Stat()
		if err != nil {
			return boltMeta{}, err
		}
		if meta.hwm < 3 || meta.hwm > uint64(fi.Size())/uint64(w.pageSize) {
			return boltMeta{}, damaged("meta page %d claims %d pages in a file of %d bytes", i, meta.hwm, fi.Size())
		}
		return meta, nil
	}
	return boltMeta{}, damaged("no meta page of transaction %d", txid)
}

// readPage reads page id and its overflow pages into the buffer of level
// depth, checking its header.
func (w *pageWalker) readPage(id uint64, depth int) ([]byte, error) {
	if id < 2 || id >= w.meta.hwm {
		return nil, damaged("a reference to page %d, outside the %d pages in use", id, w.meta.hwm)
	}
	b := w.bufs[depth]
	if len(b) < w.pageSize {
		b = make([]byte, w.pageSize)
	}
	if _, err := w.f.ReadAt(b[:w.pageSize], int64(id)*int64(w.pageSize)); err != nil {
		return nil, fmt.Errorf("read page %d: %w", id, err)
	}
	if got := ne.Uint64(b); got != id {
		return nil, damaged("page %d holds the header of page %d", id, got)
	}
	over := uint64(ne.Uint32(b[12:]))
	if id+over >= w.meta.hwm {
		return nil, damaged("page %d runs %d pages past the %d in use", id, over, w.meta.hwm)
	}
	size := (1 + int(over)) * w.pageSize
	if over > 0 {
		if cap(b) < size {
			nb := make([]byte, size)
			copy(nb, b[:w.pageSize])
			b = nb
		}
		if _, err := w.f.ReadAt(b[w.pageSize:size], int64(id+1)*int64(w.pageSize)); err != nil {
			return nil, fmt.Errorf("read page %d: %w", id, err)
		}
	}
	w.bufs[depth] = b
	for p := id; p <= id+over; p++ {
		if w.seen[p] {
			return nil, damaged("page %d is referenced twice", p)
		}
		if w.freed[p] {
			return nil, damaged("page %d is in use and on the free list", p)
		}
		w.seen[p] = true
	}
	return b[:size], nil
}

func (w *pageWalker) readFreelist() error {
	b, err := w.readPage(w.meta.freelist, 0)
	if err != nil {
		return err
	}
	if ne.Uint16(b[8:]) != freelistPage {
		return damaged("page %d should hold the free list but has type %#x", w.meta.freelist, ne.Uint16(b[8:]))
	}
	n, ids := uint64(ne.Uint16(b[10:])), b[pageHeaderSize:]
	if n == 0xFFFF {
		n, ids = ne.Uint64(ids), ids[8:]
	}
	if n > uint64(len(ids))/8 {
		return damaged("the free list on page %d claims %d ids, more than it holds", w.meta.freelist, n)
	}
	for i := range n {
		id := ne.Uint64(ids[8*i:])
		switch {
		case id < 2 || id >= w.meta.hwm:
			return damaged("the free list holds page %d, outside the %d pages in use", id, w.meta.hwm)
		case w.freed[id]:
			return damaged("page %d is on the free list twice", id)
		case w.seen[id]:
			return damaged("page %d is in use and on the free list", id)
		}
		w.freed[id] = true
	}
	return nil
}

// walkBucket checks the bucket whose root is page root, or inline (root 0)
// in the page held by inline. top is the bucket's name when it is one of
// the root bucket's, for the counts. It returns the bucket's key/value pairs.
func (w *pageWalker) walkBucket(root uint64, inline []byte, top []byte, depth int) (int64, error) {
	if depth >= maxDepth {
		return 0, damaged("buckets nested deeper than %d", maxDepth)
	}
	var n int64
	var err error
	if root == 0 {
		n, _, err = w.walkElements(inline, 0, nil, nil, top, depth)
	} else {
		n, _, err = w.walkPage(root, nil, nil, top, depth)
	}
	if err == nil && top != nil {
		w.counts[string(top)] = n
	}
	return n, err
}

// walkPage checks the subtree at page id, whose keys must lie in [lo, hi)
// (nil: no bound), and returns its key/value pairs and its first key.
func (w *pageWalker) walkPage(id uint64, lo, hi, top []byte, depth int) (int64, []byte, error) {
	if depth >= maxDepth {
		return 0, nil, damaged("page %d: the tree is deeper than %d levels", id, maxDepth)
	}
	b, err := w.readPage(id, depth)
	if err != nil {
		return 0, nil, err
	}
	return w.walkElements(b, id, lo, hi, top, depth)
}

// where names a page in an error: id 0 is an inline bucket's.
type where uint64

func (p where) String() string {
	if p == 0 {
		return "an inline bucket"
	}
	return fmt.Sprintf("page %d", uint64(p))
}

// walkElements checks the branch or leaf page held in b, page id (0: an
// inline bucket's).
func (w *pageWalker) walkElements(b []byte, id uint64, lo, hi, top []byte, depth int) (int64, []byte, error) {
	where := where(id)
	if len(b) < pageHeaderSize {
		return 0, nil, damaged("%s is shorter than a page header", where)
	}
	flags, count := ne.Uint16(b[8:]), int(ne.Uint16(b[10:]))
	if flags != branchPage && flags != leafPage {
		return 0, nil, damaged("%s is in the tree but has type %#x", where, flags)
	}
	if pageHeaderSize+count*elementSize > len(b) {
		return 0, nil, damaged("%s claims %d elements, more than fit", where, count)
	}
	if count == 0 && flags == branchPage {
		return 0, nil, damaged("%s is a branch without elements", where)
	}
	var pairs int64
	var first, prev []byte
	for i := range count {
		e := pageHeaderSize + i*elementSize
		var pos, ksize, vsize uint64
		if flags == branchPage {
			pos, ksize = uint64(ne.Uint32(b[e:])), uint64(ne.Uint32(b[e+4:]))
		} else {
			pos, ksize, vsize = uint64(ne.Uint32(b[e+4:])), uint64(ne.Uint32(b[e+8:])), uint64(ne.Uint32(b[e+12:]))
		}
		start := uint64(e) + pos
		if start+ksize+vsize > uint64(len(b)) {
			return 0, nil, damaged("%s: element %d lies outside the page", where, i)
		}
		key := b[start : start+ksize]
		if prev != nil && bytes.Compare(prev, key) >= 0 {
			return 0, nil, damaged("%s: key %d is out of order", where, i)
		}
		// keys rise within the page, so the first and the last against the
		// parent's range cover them all
		if (i == 0 && lo != nil && bytes.Compare(key, lo) < 0) || (i == count-1 && hi != nil && bytes.Compare(key, hi) >= 0) {
			return 0, nil, damaged("%s: key %d lies outside the range its parent gives", where, i)
		}
		if i == 0 {
			first = key
		}
		prev = key
		if flags == branchPage {
			next := hi
			if i+1 < count {
				nx := uint64(pageHeaderSize + (i+1)*elementSize)
				np, nk := uint64(ne.Uint32(b[nx:])), uint64(ne.Uint32(b[nx+4:]))
				if nx+np+nk > uint64(len(b)) {
					return 0, nil, damaged("%s: element %d lies outside the page", where, i+1)
				}
				next = b[nx+np : nx+np+nk]
			}
			sub, _, err := w.walkPage(ne.Uint64(b[e+8:]), key, next, top, depth+1)
			if err != nil {
				return 0, nil, err
			}
			pairs += sub
			continue
		}
		value := b[start+ksize : start+ksize+vsize]
		if ne.Uint32(b[e:])&bucketLeaf == 0 {
			pairs++
			continue
		}
		if len(value) < bucketHeader {
			return 0, nil, damaged("%s: bucket %d has a value of %d bytes", where, i, len(value))
		}
		name := top
		if top == nil && depth == 0 {
			name = key // a bucket of the root bucket: count it by name
		}
		if _, err := w.walkBucket(ne.Uint64(value), value[bucketHeader:], name, depth+1); err != nil {
			return 0, nil, err
		}
	}
	return pairs, first, nil
}

// faultText says in plain words what a panic or memory fault inside bbolt
// means, for errors that reach a client or a log: bbolt's own panic text
// ("assertion failed: ...") names its internals, not the problem.
func faultText(v any) string {
	if m := pageMismatchRE.FindStringSubmatch(fmt.Sprint(v)); m != nil {
		return fmt.Sprintf("page %s of the file does not hold the page the tree points to", m[1])
	}
	if m := pageTypeRE.FindStringSubmatch(fmt.Sprint(v)); m != nil {
		return fmt.Sprintf("page %s of the file has an invalid page type", m[1])
	}
	if err, ok := v.(runtime.Error); ok {
		if _, isIO := v.(interface{ Addr() uintptr }); isIO {
			return "a read of the file faulted (the file is damaged, or was truncated while open)"
		}
		return "the file's pages are inconsistent (" + err.Error() + ")"
	}
	if err, ok := v.(error); ok && errors.Is(err, io.ErrUnexpectedEOF) {
		return "the file ends inside a page"
	}
	return "the file's pages are inconsistent"
}

var (
	pageMismatchRE = regexp.MustCompile(`Page expected to be: (\d+)`)
	pageTypeRE     = regexp.MustCompile(`page (\d+): has unexpected type`)
)
