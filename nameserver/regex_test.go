package nameserver

import (
	"strings"
	"testing"
)

// TestCompilePython checks re.match semantics: anchored at the start only,
// Python's Unicode shorthand classes and \Z, and refusal of what RE2 lacks.
// (The interop semantics test compares the common cases with pyro4-ns.)
func TestCompilePython(t *testing.T) {
	tests := []struct {
		pat   string
		name  string
		match bool
	}{
		{"a", "abc", true},
		{"b", "abc", false}, // match, not search
		{".*c", "abc", true},
		{"a|b", "bx", true}, // the whole alternation is anchored
		{"abc$", "abc", true},
		{`abc\Z`, "abc", true},
		{`abc\Z`, "abcd", false},
		{`\w+\.\d+`, "ünï.٣", true}, // Unicode word characters and digits, as Python 3 str patterns
		{`\W`, "ü", false},
		{`\s`, "\u00a0", true},
		{`[\w.]+$`, "名前.x", true},
		{`[]a]+$`, "]a]", true},
		{`[^]a]`, "b", true},
		{`\.`, "x", false},
		{"(?i)ABC", "abc", true},
		{`a\\`, `a\`, true},
	}
	for _, tt := range tests {
		re, err := compilePython(tt.pat)
		if err != nil {
			t.Errorf("%q: %v", tt.pat, err)
			continue
		}
		if got := re.MatchString(tt.name); got != tt.match {
			t.Errorf("%q on %q: %v, want %v", tt.pat, tt.name, got, tt.match)
		}
	}
	for _, pat := range []string{"(", `a(?=b)`, `a(?!b)`, `(?<=a)b`, `(a)\1`, `(?P<x>a)(?P=x)`, `\`} {
		if _, err := compilePython(pat); err == nil {
			t.Errorf("%q compiled; Go cannot honour it", pat)
		}
	}
	re, _ := compilePython(strings.Repeat("a", 3))
	if re.String() != "^(?:aaa)" {
		t.Errorf("anchoring: %s", re)
	}
}
