package config

import (
	"bytes"
	"slices"

	"github.com/BurntSushi/toml"
)

// keyLine returns the 1-based line on which the nth (1-based) occurrence of
// key is defined in data, or 0 when it cannot tell.
//
// The TOML decoder knows every key's position but does not export it, and
// it reports a key once per table of an array, so the position is found with
// the decoder itself: the line is the shortest prefix of the file that
// parses and defines the key n times. The count only grows with the prefix,
// so a binary search finds it; a prefix that ends inside a multi-line value
// does not parse and is extended to the next one that does. Only error
// messages need this, so its cost (a few parses) does not matter.
func keyLine(data []byte, key []string, nth int) int {
	if nth < 1 || len(key) == 0 {
		return 0
	}
	var ends []int // ends[i]: the offset just after line i+1
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			ends = append(ends, len(data))
			break
		}
		off += i + 1
		ends = append(ends, off)
	}
	// count parses the shortest parseable prefix of at least n lines and
	// returns how often it defines key and how many lines it has.
	count := func(n int) (found, lines int) {
		for ; n <= len(ends); n++ {
			var v map[string]any
			md, err := toml.Decode(string(data[:ends[n-1]]), &v)
			if err != nil {
				continue
			}
			for _, k := range md.Keys() {
				if slices.Equal([]string(k), key) {
					found++
				}
			}
			return found, n
		}
		return 0, 0
	}
	lo, hi := 1, len(ends)
	if f, _ := count(hi); f < nth {
		return 0
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if f, _ := count(mid); f >= nth {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	_, line := count(lo)
	return line
}
