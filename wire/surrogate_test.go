package wire

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// surrogateStrs are Python strs (as literals) and how they are held here.
var surrogateStrs = []struct {
	py, go_ string
	n       int // len() in Python
}{
	{`'col\ud800'`, "col\xed\xa0\x80", 4},
	{`'col\udfff'`, "col\xed\xbf\xbf", 4},
	{`'col\ufffd'`, "col\ufffd", 4},
	{`'\ud83d\ude00'`, "\xed\xa0\xbd\xed\xb8\x80", 2},
	{`'\U0001f600'`, "\U0001f600", 1},
	{`'\ud7ff\ud800\udbff\udc00\udfff\ue000'`, "\ud7ff\xed\xa0\x80\xed\xaf\xbf\xed\xb0\x80\xed\xbf\xbf\ue000", 6},
	{`'é\'"\x00\n\udc80'`, "é'\"\x00\n\xed\xb2\x80", 6},
	{`''`, "", 0},
}

// TestSurrogateStrs: a str is held as Python's surrogatepass bytes, its
// code points and len() are Python's, and its repr is Python's.
func TestSurrogateStrs(t *testing.T) {
	for _, c := range surrogateStrs {
		if !ValidStr(c.go_) || !ValidStrBytes([]byte(c.go_)) || InvalidStrAt(c.go_) != -1 {
			t.Errorf("%s: not a valid str", c.py)
		}
		if got := StrLen(c.go_); got != c.n {
			t.Errorf("StrLen(%s) = %d, want %d", c.py, got, c.n)
		}
		cps := CodePoints(c.go_)
		if len(cps) != c.n {
			t.Errorf("CodePoints(%s) has %d, want %d", c.py, len(cps), c.n)
		}
		var b []byte
		for _, r := range cps {
			b = AppendCodePoint(b, r)
		}
		if string(b) != c.go_ {
			t.Errorf("%s: code points write back as %q, want %q", c.py, b, c.go_)
		}
		if n, _ := pyIterLen(c.go_); n != c.n {
			t.Errorf("pyIterLen(%s) = %d, want %d", c.py, n, c.n)
		}
	}
	var lits []string
	for _, c := range surrogateStrs {
		lits = append(lits, c.py)
	}
	pypeer.Require(t)
	script := `import ast, sys
for lit in sys.argv[1:]:
    s = ast.literal_eval(lit)
    print(s.encode("utf-8", "surrogatepass").hex(), len(s), repr(s).encode("ascii", "backslashreplace").decode())
`
	out, err := pypeer.Run(t, 30*time.Second, pypeer.Env(), script, lits...)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(surrogateStrs) {
		t.Fatalf("python printed %d lines for %d strs:\n%s", len(lines), len(surrogateStrs), out)
	}
	for i, c := range surrogateStrs {
		want := fmt.Sprintf("%x %d %s", c.go_, c.n, backslashReplace(StrRepr(c.go_)))
		if lines[i] != want {
			t.Errorf("%s: Python %s, we %s", c.py, lines[i], want)
		}
	}
}

// backslashReplace is s.encode("ascii", "backslashreplace").
func backslashReplace(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := DecodeCodePoint(s[i:])
		i += n
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.String()
}

func TestInvalidStr(t *testing.T) {
	for _, tt := range []struct {
		in string
		at int
	}{
		{"\xed\xa0", 0},       // a surrogate cut short
		{"ab\xed\xa0\xc0", 2}, // not a continuation byte
		{"\xed\x9f\xc0", 0},
		{"x\xc0\x80", 1}, // overlong
		{"\xf4\x90\x80\x80", 0},
		{"é\xff", 2},
	} {
		if got := InvalidStrAt(tt.in); got != tt.at || ValidStr(tt.in) || ValidStrBytes([]byte(tt.in)) {
			t.Errorf("InvalidStrAt(%q) = %d, want %d (and not valid)", tt.in, got, tt.at)
		}
	}
}

// TestEncodeUTF8Error is CPython's s.encode("utf-8") error, text included.
func TestEncodeUTF8Error(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"col\xed\xa0\x80", `UnicodeEncodeError: 'utf-8' codec can't encode character '\ud800' in position 3: surrogates not allowed`},
		{"é\xed\xb0\x80\xed\xaf\xbfx\xed\xa0\x80", `UnicodeEncodeError: 'utf-8' codec can't encode characters in position 1-2: surrogates not allowed`},
		{"ok\xed\xa0", "SerializeError: msgpack: str is not valid UTF-8 (byte 0xed at offset 2)"},
	} {
		err := EncodeUTF8Error("msgpack", tt.in)
		var x *Exception
		if !errors.As(err, &x) || err.Error() != tt.want {
			t.Errorf("EncodeUTF8Error(%q) = %v, want %s", tt.in, err, tt.want)
		}
	}
	if err := EncodeUTF8Error("msgpack", "é€"); err != nil {
		t.Errorf("valid UTF-8: %v", err)
	}
}

// FuzzCodePoints: walking any bytes by DecodeCodePoint and writing the code
// points back with AppendCodePoint gives the same bytes exactly when they
// are a valid str, and a valid str's code points count StrLen.
func FuzzCodePoints(f *testing.F) {
	for _, c := range surrogateStrs {
		f.Add([]byte(c.go_))
	}
	f.Add([]byte("\xed\xa0"))
	f.Add([]byte("\xed\x9f\xbf\xee\x80\x80"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		var b []byte
		n := 0
		for i := 0; i < len(s); n++ {
			r, size := DecodeCodePoint(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[i]) // keep the stray byte so the rest lines up
			} else {
				b = AppendCodePoint(b, r)
			}
			i += size
		}
		valid := ValidStr(s)
		if valid != (InvalidStrAt(s) < 0) || valid != ValidStrBytes(data) {
			t.Fatalf("%q: ValidStr, InvalidStrAt and ValidStrBytes disagree", data)
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("%q: code points write back as %q", data, b)
		}
		if valid && (StrLen(s) != n || len(CodePoints(s)) != n) {
			t.Fatalf("%q: %d code points, StrLen %d, CodePoints %d", data, n, StrLen(s), len(CodePoints(s)))
		}
		if utf8.Valid(data) != (valid && !HasSurrogate(s)) {
			t.Fatalf("%q: UTF-8 valid %v, str valid %v, surrogate %v", data, utf8.Valid(data), valid, HasSurrogate(s))
		}
	})
}
