package wire

import "unicode/utf8"

// This file holds how a Python str lives in a Go string. A Python str may
// hold lone surrogates ('\ud800'), which UTF-8 cannot encode; folding them
// to U+FFFD would merge distinct names. So a str is kept as the bytes of
// str.encode("utf-8", "surrogatepass"): UTF-8, except that a surrogate code
// point takes its three-byte form (ED A0..BF 80..BF). Those are exactly the
// bytes marshal and pickle carry, the bytes stay distinct for distinct strs,
// and their byte order is Python's code point order. Two surrogates in a
// row stay two code points, as in Python; they are not joined into one.

// MinSurrogate and MaxSurrogate bound the surrogate code points.
const (
	MinSurrogate = 0xd800
	MaxSurrogate = 0xdfff
)

// AppendCodePoint appends the code point r, a surrogate included, as a str
// holds it. A value outside the code point range appends U+FFFD, as
// utf8.AppendRune does.
func AppendCodePoint(b []byte, r rune) []byte {
	if r >= MinSurrogate && r <= MaxSurrogate {
		return append(b, 0xed, byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f))
	}
	return utf8.AppendRune(b, r)
}

// DecodeCodePoint returns the first code point of s and its width in bytes.
// It is utf8.DecodeRuneInString but for surrogates, which it returns as
// themselves; bytes that are no code point give (utf8.RuneError, 1).
func DecodeCodePoint(s string) (r rune, size int) {
	if len(s) >= 3 && s[0] == 0xed && s[1] >= 0xa0 && s[1] <= 0xbf && s[2]&0xc0 == 0x80 {
		return rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f) | 0xd000, 3
	}
	return utf8.DecodeRuneInString(s)
}

// ValidStr reports whether s holds a str: UTF-8 with surrogates allowed.
// It costs nothing beyond utf8.ValidString for text without surrogates.
func ValidStr(s string) bool {
	return utf8.ValidString(s) || InvalidStrAt(s) < 0
}

// ValidStrBytes is ValidStr for bytes about to become a str.
func ValidStrBytes(b []byte) bool {
	return utf8.Valid(b) || InvalidStrAt(string(b)) < 0
}

// InvalidStrAt returns the offset of the first byte of s that begins no
// code point, or -1 when s is a valid str.
func InvalidStrAt(s string) int {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := DecodeCodePoint(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// HasSurrogate reports whether the str s holds a surrogate code point.
func HasSurrogate(s string) bool {
	return SurrogateAt(s) >= 0
}

// SurrogateAt returns the byte offset of the first surrogate in the str s,
// or -1 when there is none.
func SurrogateAt(s string) int {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 0xed && s[i+1] >= 0xa0 && s[i+1] <= 0xbf && s[i+2]&0xc0 == 0x80 {
			return i
		}
	}
	return -1
}

// StrLen is len() of the str s: its count of code points.
func StrLen(s string) int {
	n := utf8.RuneCountInString(s)
	// Each surrogate counts as three invalid bytes in RuneCountInString.
	for i := SurrogateAt(s); i >= 0; {
		n -= 2
		j := SurrogateAt(s[i+3:])
		if j < 0 {
			break
		}
		i += 3 + j
	}
	return n
}

// CodePoints is list(s) as code points: []rune(s), but a surrogate is one
// element, not three U+FFFD.
func CodePoints(s string) []rune {
	if utf8.ValidString(s) {
		return []rune(s)
	}
	r := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		c, n := DecodeCodePoint(s[i:])
		r = append(r, c)
		i += n
	}
	return r
}

// CodePointStr is chr(r) as a str.
func CodePointStr(r rune) string {
	return string(AppendCodePoint(nil, r))
}

// EncodeUTF8Error is the error of s.encode("utf-8") for a str that is not
// valid UTF-8: the UnicodeEncodeError CPython raises for the first run of
// surrogates, or a SerializeError of codec for bytes that are no code point
// at all. It is nil for valid UTF-8. Serializers whose format carries only
// UTF-8 use it to refuse a str they cannot carry exactly.
func EncodeUTF8Error(codec, s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	if i := InvalidStrAt(s); i >= 0 {
		return CodecError(codec, "str is not valid UTF-8 (byte 0x%02x at offset %d)", s[i], i)
	}
	i := SurrogateAt(s)
	start := utf8.RuneCountInString(s[:i])
	end := start
	for ; i+3 <= len(s); i += 3 {
		if r, n := DecodeCodePoint(s[i:]); n != 3 || r < MinSurrogate || r > MaxSurrogate {
			break
		}
		end++
	}
	return &Exception{Class: ClassUnicodeEncodeError,
		Args: Tuple{"utf-8", s, int64(start), int64(end), "surrogates not allowed"}}
}
