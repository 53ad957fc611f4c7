package persist

import (
	"encoding/binary"
	"errors"
	"fmt"
)

func checkName(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("name of %d bytes is too long (at most %d)", len(name), MaxNameLen)
	}
	return nil
}

// recordVersion is the first byte of every stored value. A reader refuses a
// value with another version rather than guess at its layout.
const (
	recordVersion  = 2
	recordVersion1 = 1 // before registration order; read when upgrading a file
)

// The value layout (version 2), with every number an unsigned varint:
//
//	version byte | seq | len(uri) uri | count | count × (len(item) item)
//
// seq is the entry's place in registration order (the key under which the
// order bucket holds its name). Version 1 is the same without seq.
//
// Items are sorted and distinct; the decoder checks it so that a damaged
// value is reported instead of surfacing as a subtly wrong set.

// record is a decoded value. seq is 0 in a version 1 value.
type record struct {
	seq uint64
	uri string
	md  []string
}

// encodeRecord returns the stored form of an entry (md already normalized).
func encodeRecord(seq uint64, uri string, md []string) []byte {
	n := 1 + binary.MaxVarintLen64*3 + len(uri)
	for _, m := range md {
		n += binary.MaxVarintLen64 + len(m)
	}
	b := make([]byte, 0, n)
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, seq)
	b = binary.AppendUvarint(b, uint64(len(uri)))
	b = append(b, uri...)
	b = binary.AppendUvarint(b, uint64(len(md)))
	for _, m := range md {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

var errRecord = errors.New("damaged record")

// decodeRecord parses a stored value. The strings it returns are copies: b
// may point into bbolt's memory map, which is only valid inside a transaction.
func decodeRecord(b []byte) (record, error) {
	if len(b) == 0 {
		return record{}, fmt.Errorf("%w: empty", errRecord)
	}
	var r record
	switch b[0] {
	case recordVersion:
		seq, n := binary.Uvarint(b[1:])
		if n <= 0 {
			return record{}, fmt.Errorf("%w: bad sequence number", errRecord)
		}
		r.seq, b = seq, b[1+n:]
	case recordVersion1:
		b = b[1:]
	default:
		return record{}, fmt.Errorf("%w: unknown record version %d", errRecord, b[0])
	}
	var err error
	r.uri, r.md, err = decodeEntry(b)
	return r, err
}

// decodeEntry parses the URI and metadata that end a value.
func decodeEntry(b []byte) (uri string, md []string, err error) {
	u, b, err := readString(b)
	if err != nil {
		return "", nil, err
	}
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return "", nil, fmt.Errorf("%w: bad metadata count", errRecord)
	}
	b = b[n:]
	// Every item takes at least one byte, so a count above the bytes left is
	// a lie; checking it first keeps a hostile count from sizing an allocation.
	if count > uint64(len(b)) {
		return "", nil, fmt.Errorf("%w: metadata count %d exceeds record", errRecord, count)
	}
	if count > 0 {
		md = make([]string, 0, count)
	}
	for i := uint64(0); i < count; i++ {
		var s string
		if s, b, err = readString(b); err != nil {
			return "", nil, err
		}
		if len(md) > 0 && md[len(md)-1] >= s {
			return "", nil, fmt.Errorf("%w: metadata not sorted", errRecord)
		}
		md = append(md, s)
	}
	if len(b) != 0 {
		return "", nil, fmt.Errorf("%w: %d trailing bytes", errRecord, len(b))
	}
	return u, md, nil
}

func readString(b []byte) (string, []byte, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 {
		return "", nil, fmt.Errorf("%w: bad length", errRecord)
	}
	b = b[n:]
	if l > uint64(len(b)) {
		return "", nil, fmt.Errorf("%w: length %d exceeds record", errRecord, l)
	}
	return string(b[:l]), b[l:], nil
}
