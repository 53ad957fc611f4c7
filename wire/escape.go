package wire

// This file holds the backslash escapes the text formats share: Python's
// (serpent's literals, the STRING argument of pickle protocol 0) and the hex
// digits of Python's and JSON's \x, \u and \U escapes.

// PyEscape returns the byte that the one-character escape of c in a Python
// literal stands for, 0 for every other character.
func PyEscape(c byte) byte { return pyEscapes[c] }

// pyEscapes is PyEscape's table, read-only.
var pyEscapes = [256]byte{
	'\\': '\\', '\'': '\'', '"': '"',
	'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
}

// OctalEscape reads the one to three octal digits of a Python escape that
// start at s[i], a digit; it returns their value and the index after them.
func OctalEscape[S ~string | ~[]byte](s S, i int) (v, end int) {
	for end = i; end < len(s) && end < i+3 && s[end] >= '0' && s[end] <= '7'; end++ {
		v = v*8 + int(s[end]-'0')
	}
	return v, end
}

// ParseHex reads the n hex digits at b[i:]; ok is false when there are
// fewer.
func ParseHex(b []byte, i, n int) (v uint32, ok bool) {
	if i+n > len(b) {
		return 0, false
	}
	for _, c := range b[i : i+n] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			c = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}
