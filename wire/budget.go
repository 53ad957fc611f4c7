package wire

import (
	"strconv"
	"strings"
)

// This file holds the limits every decoder applies as CPython does, the
// size budget of the formats with back-references, and the Latin-1 text of
// marshal and pickle.

// MaxIntDigits is CPython's default limit on the decimal digits of an int
// (sys.int_info.default_max_str_digits, Python 3.11). Python refuses to
// convert a longer one from or to text (int(), json.loads, serpent), so a
// codec neither sends nor accepts one.
const MaxIntDigits = 4300

// IsRangeError reports whether err is strconv's out-of-range error, which a
// decoder turns into an arbitrary-precision int or Python's overflow.
func IsRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// NodeBudget bounds the logical size of a decoded value: one unit per value
// plus one per 8 bytes of str or bytes payload (PayloadCost). Marshal and
// pickle can refer back to earlier objects, so a few bytes can name a value
// whose expansion is huge (exponential, for nested containers), and encoders
// and Equal walk the expansion. A payload without back-references stays
// below 2 units per byte; the budget leaves room for honest sharing.
func NodeBudget(dataLen int) int { return 4*dataLen + 4096 }

// PayloadCost is the extra budget a str or bytes value takes.
func PayloadCost(v Value) int {
	switch x := v.(type) {
	case string:
		return len(x) / 8
	case []byte:
		return len(x) / 8
	}
	return 0
}

// Latin1ToUTF8 decodes bytes as Latin-1, which is how CPython reads marshal's
// ASCII string types and how pickle's protocol 2 carries bytes.
func Latin1ToUTF8(b []byte) string {
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

// UTF8ToLatin1 is the reverse of Latin1ToUTF8; ok is false when s has a code
// point above U+00FF.
func UTF8ToLatin1(s string) (out []byte, ok bool) {
	out = make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return out, true
}
