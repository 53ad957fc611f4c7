package wire

// The value constructors of this package's internal tests. The codec
// packages' tests, and this package's external ones, use the same helpers
// from wire/internal/codectest, which an internal test cannot import.

// dictOf builds a dict from alternating keys and values.
func dictOf(kv ...Value) *Dict {
	d := NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		d.Append(kv[i], kv[i+1])
	}
	return d
}

func strList(s []string) List {
	l := make(List, len(s))
	for i, x := range s {
		l[i] = x
	}
	return l
}
