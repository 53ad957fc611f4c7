package wire

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// This file holds what the json, marshal, msgpack and pickle codecs share:
// building dicts and sets the way Python does (equal keys collapse: 1, 1.0
// and True are one key, the last value wins and the first key stays;
// unhashable keys are refused), the size budget for formats with
// back-references, and errors, which are all Pyro4 SerializeErrors.

// codecErr returns a SerializeError whose message names the codec, the way a
// Pyro4 peer would report a payload it cannot (de)serialize.
func codecErr(codec, format string, a ...any) error {
	return &Exception{Class: ClassSerializeError, Message: codec + ": " + fmt.Sprintf(format, a...)}
}

// ErrDecoderPanic marks an error that is a decoder's recovered panic: a bug
// in this package, never a verdict on the input. The error also wraps a
// SerializeError, which is what the peer is told, so a server keeps serving;
// tests and fuzz targets look for the mark with errors.Is.
var ErrDecoderPanic = errors.New("decoder panic")

// recoverCodec turns a decoder bug into an error instead of a crashed
// server. Decoders check bounds themselves; this is the second line.
func recoverCodec(codec string, err *error) {
	if r := recover(); r != nil {
		*err = decoderPanic(codec, r)
	}
}

// decoderPanic is the error for a panic r recovered in codec's decoder.
func decoderPanic(codec string, r any) error {
	return fmt.Errorf("%w (%w)", codecErr(codec, "internal error: %v", r), ErrDecoderPanic)
}

// nanSerial makes every NaN key distinct: Python finds dict keys by identity
// first, and two NaN objects read from the wire are never the same object.
var nanSerial atomic.Uint64

// pyKey returns a string that is the same for two values exactly when Python
// would treat them as the same dict key or set member. ok is false for an
// unhashable value (list, dict; sets count as frozensets).
func pyKey(v Value) (key string, ok bool) {
	var b strings.Builder
	if !writePyKey(&b, v, 0) {
		return "", false
	}
	return b.String(), true
}

func writePyKey(b *strings.Builder, v Value, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch x := v.(type) {
	case nil:
		b.WriteByte('N')
	case bool:
		if x {
			b.WriteString("i1")
		} else {
			b.WriteString("i0")
		}
	case int64:
		b.WriteByte('i')
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteByte('i')
		b.WriteString(x.String())
	case float64:
		writeFloatKey(b, x)
	case complex128:
		if imag(x) == 0 {
			writeFloatKey(b, real(x))
			return true
		}
		if math.IsNaN(real(x)) || math.IsNaN(imag(x)) {
			fmt.Fprintf(b, "nan#%d", nanSerial.Add(1))
			return true
		}
		b.WriteByte('c')
		b.WriteString(strconv.FormatFloat(real(x), 'g', -1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(imag(x), 'g', -1, 64))
	case string:
		b.WriteByte('s')
		writeKeyPart(b, x)
	case []byte:
		b.WriteByte('b')
		writeKeyPart(b, string(x))
	case Tuple:
		b.WriteByte('(')
		for _, it := range x {
			var sub strings.Builder
			if !writePyKey(&sub, it, depth+1) {
				return false
			}
			writeKeyPart(b, sub.String())
		}
		b.WriteByte(')')
	case Set:
		parts := make([]string, 0, len(x))
		seen := make(map[string]bool, len(x))
		for _, it := range x {
			var sub strings.Builder
			if !writePyKey(&sub, it, depth+1) {
				return false
			}
			if k := sub.String(); !seen[k] {
				seen[k] = true
				parts = append(parts, k)
			}
		}
		sort.Strings(parts)
		b.WriteByte('{')
		for _, p := range parts {
			writeKeyPart(b, p)
		}
		b.WriteByte('}')
	default:
		return false
	}
	return true
}

// writeKeyPart writes a length-prefixed part so that nested keys never run
// into each other.
func writeKeyPart(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

func writeFloatKey(b *strings.Builder, f float64) {
	switch {
	case math.IsNaN(f):
		fmt.Fprintf(b, "nan#%d", nanSerial.Add(1))
	case math.IsInf(f, 0):
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case f == math.Trunc(f):
		// an integral float equals the int of the same value
		bf := new(big.Float).SetFloat64(f)
		i, _ := bf.Int(nil)
		b.WriteByte('i')
		b.WriteString(i.String())
	default:
		b.WriteByte('f')
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	}
}

// unhashableErr is Python's message for a list or dict used as a key.
func unhashableErr(codec string, v Value) error {
	return codecErr(codec, "unhashable type: '%s'", TypeName(v))
}

// dictBuilder fills a Dict with Python's assignment semantics while keeping
// lookups constant-time, so a hostile payload with many keys stays linear.
// A str key can only ever equal another str, so str keys get their own index
// and need no hashing.
type dictBuilder struct {
	d     *Dict
	strs  map[string]int
	other map[string]int
}

func newDictBuilder(n int) dictBuilder {
	return dictBuilder{d: NewDict(n)}
}

// set stores v under k. It returns false when k is unhashable.
func (b *dictBuilder) set(k, v Value) bool {
	if s, ok := k.(string); ok {
		if i, dup := b.findStr(s); dup {
			b.d.Items[i].Value = v
			return true
		}
		if b.strs != nil {
			b.strs[s] = len(b.d.Items)
		}
		b.d.Items = append(b.d.Items, DictItem{k, v})
		return true
	}
	key, ok := pyKey(k)
	if !ok {
		return false
	}
	if b.other == nil {
		b.other = map[string]int{}
	}
	if i, dup := b.other[key]; dup {
		b.d.Items[i].Value = v
		return true
	}
	b.other[key] = len(b.d.Items)
	b.d.Items = append(b.d.Items, DictItem{k, v})
	return true
}

// findStr finds a str key: by scanning while the dict is small (calls and
// handshakes), through an index once it grows.
func (b *dictBuilder) findStr(s string) (int, bool) {
	if b.strs == nil {
		if len(b.d.Items) < 8 {
			for i := range b.d.Items {
				if ks, isStr := b.d.Items[i].Key.(string); isStr && ks == s {
					return i, true
				}
			}
			return 0, false
		}
		b.strs = make(map[string]int, 2*len(b.d.Items))
		for i, it := range b.d.Items {
			if ks, isStr := it.Key.(string); isStr {
				b.strs[ks] = i
			}
		}
	}
	i, ok := b.strs[s]
	return i, ok
}

// setBuilder collects set members, dropping duplicates as Python's set does.
type setBuilder struct {
	s    Set
	seen map[string]bool
}

func newSetBuilder(n int) setBuilder {
	return setBuilder{s: make(Set, 0, n), seen: make(map[string]bool, n)}
}

// add returns false when v is unhashable.
func (b *setBuilder) add(v Value) bool {
	key, ok := pyKey(v)
	if !ok {
		return false
	}
	if !b.seen[key] {
		b.seen[key] = true
		b.s = append(b.s, v)
	}
	return true
}

// nodeBudget bounds the logical size of a decoded value: one unit per value
// plus one per 8 bytes of str or bytes payload (payloadCost). Marshal and
// pickle can refer back to earlier objects, so a few bytes can name a value
// whose expansion is huge (exponential, for nested containers), and encoders
// and Equal walk the expansion. A payload without back-references stays
// below 2 units per byte; the budget leaves room for honest sharing.
func nodeBudget(dataLen int) int { return 4*dataLen + 4096 }

// payloadCost is the extra budget a str or bytes value takes.
func payloadCost(v Value) int {
	switch x := v.(type) {
	case string:
		return len(x) / 8
	case []byte:
		return len(x) / 8
	}
	return 0
}

// latin1ToUTF8 decodes bytes as Latin-1, which is how CPython reads marshal's
// ASCII string types and how pickle's protocol 2 carries bytes.
func latin1ToUTF8(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) * 2)
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// utf8ToLatin1 is the reverse of latin1ToUTF8; ok is false when s has a code
// point above U+00FF.
func utf8ToLatin1(s string) (out []byte, ok bool) {
	out = make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, true
}

// unhashable names the type that makes v unhashable in Python, "" when v is
// hashable: the first such member of a tuple, depth first, as hash() finds
// it. A Set counts as a set: a frozenset is rare on the wire.
func unhashable(v Value) string {
	switch x := v.(type) {
	case List, Set, *Dict:
		return TypeName(v)
	case Tuple:
		for _, it := range x {
			if t := unhashable(it); t != "" {
				return t
			}
		}
	}
	return ""
}
