package config

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// The TOML decoder knows where every key is defined but does not say, and
// an error message needs the line. keyScanner finds it: it walks a document
// the decoder has already accepted and lists its keys in the decoder's own
// order (MetaData.Keys: table headers, each key of a key/value pair with
// its table's prefix, the keys of inline tables, also inside arrays), each
// with the line on which it starts. It only has to follow valid TOML; on
// anything else it stops, and a key it did not reach has no line.

// keyPos is a key and the line it starts on.
type keyPos struct {
	key  []string
	line int
}

// keyLine returns the line on which the nth (1-based) occurrence of key
// starts, or 0 when there is no such occurrence.
func keyLine(positions []keyPos, key []string, nth int) int {
	for _, p := range positions {
		if slices.Equal(p.key, key) {
			if nth--; nth == 0 {
				return p.line
			}
		}
	}
	return 0
}

type keyScanner struct {
	data []byte
	i    int
	line int
	out  []keyPos
	bad  bool // met something that is not valid TOML; stop
}

func scanKeys(data []byte) []keyPos {
	s := &keyScanner{data: data, line: 1}
	if len(data) >= 3 && string(data[:3]) == "\ufeff" {
		s.i = 3
	}
	var table []string
	for !s.bad {
		s.skipSpace(true)
		if s.i >= len(s.data) {
			break
		}
		start := s.i
		if s.data[s.i] == '[' {
			line := s.line
			s.i++
			double := s.peek() == '['
			if double {
				s.i++
			}
			table = s.key()
			s.expect(']')
			if double {
				s.expect(']')
			}
			s.record(table, line)
		} else {
			s.pair(table)
		}
		if s.i == start {
			break // no progress: not TOML after all
		}
	}
	return s.out
}

func (s *keyScanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

func (s *keyScanner) record(key []string, line int) {
	s.out = append(s.out, keyPos{key: slices.Clone(key), line: line})
}

func (s *keyScanner) expect(c byte) {
	s.skipSpace(false)
	if s.peek() != c {
		s.bad = true
		return
	}
	s.i++
}

// skipSpace skips blanks and comments, and line breaks too with newlines.
func (s *keyScanner) skipSpace(newlines bool) {
	for s.i < len(s.data) {
		switch c := s.data[s.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
		case c == '\n' && newlines:
			s.i++
			s.line++
		case c == '#':
			for s.i < len(s.data) && s.data[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

// pair reads key = value under prefix, recording the key and any keys of
// inline tables in the value.
func (s *keyScanner) pair(prefix []string) {
	line := s.line
	k := s.key()
	s.expect('=')
	if s.bad {
		return
	}
	full := append(slices.Clone(prefix), k...)
	s.record(full, line)
	s.skipSpace(false)
	s.value(full)
}

// key reads a dotted key of bare and quoted parts.
func (s *keyScanner) key() []string {
	var parts []string
	for !s.bad {
		s.skipSpace(false)
		switch c := s.peek(); {
		case c == '"':
			parts = append(parts, s.basicString())
		case c == '\'':
			parts = append(parts, s.literalString())
		default:
			start := s.i
			for s.i < len(s.data) && isBare(s.data[s.i]) {
				s.i++
			}
			if s.i == start {
				s.bad = true
				return parts
			}
			parts = append(parts, string(s.data[start:s.i]))
		}
		s.skipSpace(false)
		if s.peek() != '.' {
			return parts
		}
		s.i++
	}
	return parts
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// value skips a value, recording the keys of inline tables in it.
func (s *keyScanner) value(key []string) {
	switch c := s.peek(); c {
	case '"':
		if s.has(`"""`) {
			s.multiline('"')
		} else {
			s.basicString()
		}
	case '\'':
		if s.has(`'''`) {
			s.multiline('\'')
		} else {
			s.literalString()
		}
	case '[':
		s.items(']', func() { s.value(key) })
	case '{':
		s.items('}', func() { s.pair(key) })
	default:
		// A number, boolean or date (which may hold a space): up to what
		// ends a value.
		start := s.i
		for s.i < len(s.data) && !slices.Contains([]byte(",]}\n#\r"), s.data[s.i]) {
			s.i++
		}
		if s.i == start {
			s.bad = true
		}
	}
}

// items skips the items of an array or inline table, reading each with
// item, up to and including closer.
func (s *keyScanner) items(closer byte, item func()) {
	s.i++
	for !s.bad {
		s.skipSpace(true)
		if s.peek() == closer {
			s.i++
			return
		}
		if s.i >= len(s.data) {
			s.bad = true
			return
		}
		item()
		s.skipSpace(true)
		if s.peek() == ',' {
			s.i++
		}
	}
}

func (s *keyScanner) has(prefix string) bool {
	return len(s.data)-s.i >= len(prefix) && string(s.data[s.i:s.i+len(prefix)]) == prefix
}

// basicString reads a one-line "..." string and returns its text.
func (s *keyScanner) basicString() string {
	s.i++
	var b []byte
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			return string(b)
		case c == '\n':
			s.bad = true
			return string(b)
		case c == '\\' && s.i+1 < len(s.data):
			b = s.escape(b)
		default:
			b = append(b, c)
			s.i++
		}
	}
	s.bad = true
	return string(b)
}

// escape decodes the escape sequence at s.i onto b.
func (s *keyScanner) escape(b []byte) []byte {
	c := s.data[s.i+1]
	s.i += 2
	simple := map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', '"': '"', '\\': '\\', 'e': 0x1b}
	if r, ok := simple[c]; ok {
		return append(b, r)
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if digits == 0 || len(s.data)-s.i < digits {
		s.bad = true
		return b
	}
	n, err := strconv.ParseUint(string(s.data[s.i:s.i+digits]), 16, 32)
	if err != nil {
		s.bad = true
		return b
	}
	s.i += digits
	return utf8.AppendRune(b, rune(n))
}

// literalString reads a one-line '...' string and returns its text.
func (s *keyScanner) literalString() string {
	s.i++
	start := s.i
	for s.i < len(s.data) && s.data[s.i] != '\'' && s.data[s.i] != '\n' {
		s.i++
	}
	if s.peek() != '\'' {
		s.bad = true
		return ""
	}
	s.i++
	return string(s.data[start : s.i-1])
}

// multiline skips a """...""" or ”'...”' string, counting its lines.
func (s *keyScanner) multiline(q byte) {
	s.i += 3
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\\' && q == '"' && s.i+1 < len(s.data):
			if s.data[s.i+1] == '\n' {
				s.line++
			}
			s.i += 2
		case c == q:
			// Up to two quotes of the text may precede the closing three.
			j := s.i
			for j < len(s.data) && s.data[j] == q {
				j++
			}
			if j-s.i >= 3 {
				s.i = j
				return
			}
			s.i = j
		default:
			if c == '\n' {
				s.line++
			}
			s.i++
		}
	}
	s.bad = true
}
