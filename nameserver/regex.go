package nameserver

import (
	"regexp"
	"strings"
)

// Python's re and Go's regexp (RE2) share most syntax. These are the
// translations that keep common patterns meaning what they mean in Python
// for str patterns: the shorthand classes are Unicode-aware there and ASCII
// in RE2, and Python spells the end-of-text anchor \Z. Anything RE2 cannot
// express (look-arounds, back-references, atomic groups, verbose mode) stays
// as written so that compiling it fails and the caller reports
// "invalid regex".
var (
	pyEscapes = map[byte]string{
		'Z': `\z`,
		'd': `\p{Nd}`,
		'D': `\P{Nd}`,
		'w': `[\p{L}\p{N}_]`,
		'W': `[^\p{L}\p{N}_]`,
		's': `[\t-\r\x1c-\x20\x85\p{Z}]`,
		'S': `[^\t-\r\x1c-\x20\x85\p{Z}]`,
	}
	// inside [...] only the positive classes can be spliced in.
	pyClassEscapes = map[byte]string{
		'd': `\p{Nd}`,
		'w': `\p{L}\p{N}_`,
		's': `\t-\r\x1c-\x20\x85\p{Z}`,
	}
)

// compilePython compiles a Python regular expression for use as re.match:
// anchored at the start of the name only.
func compilePython(pat string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.Grow(len(pat) + 16)
	b.WriteString(`^(?:`)
	inClass := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '\\' && i+1 < len(pat):
			e := pat[i+1]
			i++
			table := pyEscapes
			if inClass {
				table = pyClassEscapes
			}
			if t, ok := table[e]; ok {
				b.WriteString(t)
			} else {
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			continue
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			// a ']' right after '[' or '[^' is a literal member in both dialects
			if i+1 < len(pat) && pat[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
			if i+1 < len(pat) && pat[i+1] == ']' {
				i++
				b.WriteString(`\]`)
			}
			continue
		case c == ']' && inClass:
			inClass = false
		}
		b.WriteByte(c)
	}
	b.WriteByte(')')
	re, err := regexp.Compile(b.String())
	if err != nil {
		// The error quotes the expression: report it on the pattern as
		// translated, without the anchoring group around it, which the
		// user never wrote.
		if _, perr := regexp.Compile(b.String()[len(`^(?:`) : b.Len()-1]); perr != nil {
			return nil, perr
		}
	}
	return re, err
}
