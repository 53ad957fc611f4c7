// Package bdbhash reads the key/value pairs of a Berkeley DB Hash database
// file (version 8 or 9, as Berkeley DB 4.x and 5.x write it), the format of
// Python's dbm.ndbm on Debian and so of Pyro4's `-s dbm:FILE` store. It
// only reads: no locking, no environment, no write. Duplicate and
// encrypted databases are refused; pairs come in the order a cursor of
// Berkeley DB walks them (bucket by bucket), which is the order Python's
// dbm returns keys in.
package bdbhash

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat is wrapped by every error about the contents of the file.
var ErrFormat = errors.New("not a readable Berkeley DB hash file")

const (
	hashMagic   = 0x061561
	metaSize    = 512 // the hash meta page's fields end well inside it
	pageHeader  = 26  // lsn 8, pgno 4, prev 4, next 4, entries 2, hf_offset 2, level 1, type 1
	typeHash    = 13  // P_HASH
	typeHashOld = 2   // P_HASH_UNSORTED
	typeMeta    = 8   // P_HASHMETA
	typeOver    = 7   // P_OVERFLOW

	itemKeyData = 1 // H_KEYDATA
	itemDup     = 2 // H_DUPLICATE
	itemOffPage = 3 // H_OFFPAGE
	itemOffDup  = 4 // H_OFFDUP
)

// Pair is one key and its value.
type Pair struct {
	Key, Value []byte
}

type reader struct {
	data     []byte
	order    binary.ByteOrder
	pageSize int
	pages    int
}

// Read parses a whole database file and returns its pairs.
func Read(data []byte) ([]Pair, error) {
	if len(data) < metaSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than a meta page", ErrFormat, len(data))
	}
	r := &reader{data: data}
	switch {
	case binary.LittleEndian.Uint32(data[12:]) == hashMagic:
		r.order = binary.LittleEndian
	case binary.BigEndian.Uint32(data[12:]) == hashMagic:
		r.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: no hash magic number (another kind of database, or not one)", ErrFormat)
	}
	if v := r.order.Uint32(data[16:]); v != 8 && v != 9 {
		return nil, fmt.Errorf("%w: hash version %d, this reader knows 8 and 9", ErrFormat, v)
	}
	ps := r.order.Uint32(data[20:])
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("%w: page size %d", ErrFormat, ps)
	}
	r.pageSize = int(ps)
	if data[24] != 0 {
		return nil, fmt.Errorf("%w: the database is encrypted", ErrFormat)
	}
	if data[25] != typeMeta {
		return nil, fmt.Errorf("%w: page 0 is of type %d, not a hash meta page", ErrFormat, data[25])
	}
	if len(data)%r.pageSize != 0 {
		return nil, fmt.Errorf("%w: file of %d bytes is not a whole number of %d-byte pages", ErrFormat, len(data), r.pageSize)
	}
	r.pages = len(data) / r.pageSize
	const dupFlag = 0x01 // DB_HASH_DUP
	if r.order.Uint32(data[48:])&dupFlag != 0 {
		return nil, fmt.Errorf("%w: a database with duplicate keys", ErrFormat)
	}
	maxBucket := r.order.Uint32(data[72:])
	var spares [32]uint32
	for i := range spares {
		spares[i] = r.order.Uint32(data[96+4*i:])
	}
	if int64(maxBucket) >= int64(r.pages) {
		return nil, fmt.Errorf("%w: %d buckets in %d pages", ErrFormat, int64(maxBucket)+1, r.pages)
	}
	seen := make(map[uint32]bool)
	var out []Pair
	for b := uint32(0); b <= maxBucket; b++ {
		pg := uint64(b) + uint64(spares[log2(b+1)])
		for pg != 0 {
			if pg >= uint64(r.pages) {
				return nil, fmt.Errorf("%w: bucket %d: page %d past the end of the file", ErrFormat, b, pg)
			}
			if seen[uint32(pg)] {
				return nil, fmt.Errorf("%w: page %d reached twice", ErrFormat, pg)
			}
			seen[uint32(pg)] = true
			next, err := r.hashPage(uint32(pg), &out)
			if err != nil {
				return nil, err
			}
			pg = uint64(next)
		}
	}
	return out, nil
}

// log2 is Berkeley DB's __db_log2: the smallest i with 1<<i >= n.
func log2(n uint32) int {
	i := 0
	for limit := uint64(1); limit < uint64(n); limit <<= 1 {
		i++
	}
	return i
}

func (r *reader) page(pg uint32) []byte {
	return r.data[int(pg)*r.pageSize : int(pg+1)*r.pageSize]
}

// hashPage appends the pairs of one hash page and returns the next page of
// its bucket (0: none).
func (r *reader) hashPage(pg uint32, out *[]Pair) (uint32, error) {
	p := r.page(pg)
	if t := p[25]; t != typeHash && t != typeHashOld {
		return 0, fmt.Errorf("%w: page %d is of type %d, not a hash page", ErrFormat, pg, t)
	}
	n := int(r.order.Uint16(p[20:]))
	if n%2 != 0 || pageHeader+2*n > len(p) {
		return 0, fmt.Errorf("%w: page %d: %d entries", ErrFormat, pg, n)
	}
	end := len(p)
	items := make([][]byte, n)
	for i := range n {
		off := int(r.order.Uint16(p[pageHeader+2*i:]))
		if off < pageHeader+2*n || off >= end {
			return 0, fmt.Errorf("%w: page %d: entry %d at offset %d", ErrFormat, pg, i, off)
		}
		items[i], end = p[off:end], off
	}
	for i := 0; i < n; i += 2 {
		k, err := r.item(pg, items[i])
		if err != nil {
			return 0, err
		}
		v, err := r.item(pg, items[i+1])
		if err != nil {
			return 0, err
		}
		*out = append(*out, Pair{Key: k, Value: v})
	}
	return r.order.Uint32(p[16:]), nil
}

// item returns the bytes of one hash item, following overflow pages.
func (r *reader) item(pg uint32, it []byte) ([]byte, error) {
	switch it[0] {
	case itemKeyData:
		return append([]byte(nil), it[1:]...), nil
	case itemOffPage:
		if len(it) < 12 {
			return nil, fmt.Errorf("%w: page %d: short off-page item", ErrFormat, pg)
		}
		return r.overflow(r.order.Uint32(it[4:]), r.order.Uint32(it[8:]))
	case itemDup, itemOffDup:
		return nil, fmt.Errorf("%w: page %d: duplicate items", ErrFormat, pg)
	}
	return nil, fmt.Errorf("%w: page %d: item of type %d", ErrFormat, pg, it[0])
}

// overflow reads an item of tlen bytes kept on a chain of overflow pages.
func (r *reader) overflow(pg, tlen uint32) ([]byte, error) {
	if int64(tlen) > int64(len(r.data)) {
		return nil, fmt.Errorf("%w: an item of %d bytes in a file of %d", ErrFormat, tlen, len(r.data))
	}
	out := make([]byte, 0, tlen)
	for hops := 0; uint32(len(out)) < tlen; hops++ {
		if pg == 0 || int64(pg) >= int64(r.pages) || hops >= r.pages {
			return nil, fmt.Errorf("%w: overflow chain broken at page %d", ErrFormat, pg)
		}
		p := r.page(pg)
		if p[25] != typeOver {
			return nil, fmt.Errorf("%w: page %d is of type %d, not an overflow page", ErrFormat, pg, p[25])
		}
		n := int(r.order.Uint16(p[22:])) // hf_offset holds the bytes on this page
		if n > len(p)-pageHeader || uint32(len(out)+n) > tlen {
			return nil, fmt.Errorf("%w: overflow page %d holds %d bytes", ErrFormat, pg, n)
		}
		out = append(out, p[pageHeader:pageHeader+n]...)
		pg = r.order.Uint32(p[16:])
	}
	return out, nil
}
