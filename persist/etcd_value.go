package persist

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The value of a name's key in etcd is the store's own format, apart from
// the bolt file's so that either can change without the other: every node
// of a cluster, of whatever version, reads what the others wrote.
//
//	version byte (1) | len(uri) uri | count | count × (len(item) item)
//
// Every length is an unsigned varint; items are sorted and distinct.
const etcdValueVersion = 1

var errEtcdValue = errors.New("not a registration")

func encodeEtcdValue(uri string, md []string) []byte {
	n := 1 + 2*binary.MaxVarintLen64 + len(uri)
	for _, m := range md {
		n += binary.MaxVarintLen64 + len(m)
	}
	b := make([]byte, 0, n)
	b = append(b, etcdValueVersion)
	b = binary.AppendUvarint(b, uint64(len(uri)))
	b = append(b, uri...)
	b = binary.AppendUvarint(b, uint64(len(md)))
	for _, m := range md {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

// decodeEtcdValue parses a value written by encodeEtcdValue. It checks
// everything: a key under the prefix may hold anything another program put
// there.
func decodeEtcdValue(b []byte) (uri string, md []string, err error) {
	if len(b) == 0 || b[0] != etcdValueVersion {
		return "", nil, fmt.Errorf("%w: no version %d marker", errEtcdValue, etcdValueVersion)
	}
	b = b[1:]
	if uri, b, err = etcdString(b); err != nil {
		return "", nil, err
	}
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return "", nil, fmt.Errorf("%w: bad metadata count", errEtcdValue)
	}
	b = b[n:]
	// Each item takes at least a byte: a larger count is a lie, refused
	// before it can size an allocation.
	if count > uint64(len(b)) {
		return "", nil, fmt.Errorf("%w: metadata count %d exceeds the value", errEtcdValue, count)
	}
	if count > 0 {
		md = make([]string, 0, count)
	}
	for range count {
		var s string
		if s, b, err = etcdString(b); err != nil {
			return "", nil, err
		}
		if len(md) > 0 && md[len(md)-1] >= s {
			return "", nil, fmt.Errorf("%w: metadata not sorted", errEtcdValue)
		}
		md = append(md, s)
	}
	if len(b) != 0 {
		return "", nil, fmt.Errorf("%w: %d trailing bytes", errEtcdValue, len(b))
	}
	return uri, md, nil
}

func etcdString(b []byte) (string, []byte, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 {
		return "", nil, fmt.Errorf("%w: bad length", errEtcdValue)
	}
	b = b[n:]
	if l > uint64(len(b)) {
		return "", nil, fmt.Errorf("%w: length %d exceeds the value", errEtcdValue, l)
	}
	return string(b[:l]), b[l:], nil
}
