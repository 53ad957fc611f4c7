package json

import (
	"errors"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// TestJSONSurrogates: a lone surrogate is written as its \u escape, which
// Python's json module reads back as the same str; a \u escape of a lone
// surrogate reads as that surrogate. A high surrogate followed by a low one
// is refused: JSON readers join the two escapes into one character.
func TestJSONSurrogates(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"col\xed\xa0\x80", `"col\ud800"`},
		{"col\xed\xbf\xbf", `"col\udfff"`},
		{"\xed\xbf\xbf\xed\xa0\x80\"\n\xed\xa0\x80é", `"\udfff\ud800\"\n\ud800é"`},
		{"\xed\xa0\x80a\xed\xb0\x80", `"\ud800a\udc00"`},
	} {
		got, err := codec{}.Marshal(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, msg string }{
		{"x\xed\xa0\xbd\xed\xb8\x80", `surrogates '\ud83d\ude00' at position 1`},
		{"\xed\xa0", "byte 0xed at offset 0"},
	} {
		_, err := codec{}.Marshal(tt.in)
		var x *wire.Exception
		if !errors.As(err, &x) || x.Class != wire.ClassSerializeError || !strings.Contains(x.Message, tt.msg) {
			t.Errorf("Marshal(%q) error %v; want a SerializeError containing %q", tt.in, err, tt.msg)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{`"col\ud800"`, "col\xed\xa0\x80"},
		{`"\udc00\ud800"`, "\xed\xb0\x80\xed\xa0\x80"},
		{`"\ud83d\ude00"`, "\U0001f600"}, // a pair is one character, as in Python
		{`"\ud83d\u0041"`, "\xed\xa0\xbdA"},
	} {
		v, err := codec{}.Unmarshal([]byte(tt.in))
		if err != nil || v != tt.want {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q", tt.in, v, err, tt.want)
		}
	}
	joined := func(c codectest.SurrogateCase) (wire.Value, bool) {
		if !c.Pair {
			return nil, false
		}
		// Python's ASCII JSON writes the pair as two escapes, which any
		// JSON reader, Python's included, joins into one character.
		s := "a\U0001f600b"
		d := wire.NewDict(1)
		d.Set(s, s)
		return wire.List{s, d}, true
	}
	isPair := func(c codectest.SurrogateCase) bool { return c.Pair }
	t.Run("ascii-client", func(t *testing.T) {
		// What a client that writes ASCII JSON sends; Python reads it.
		codectest.SurrogateCheck{
			Codec: "json",
			Dumps: "lambda v: json.dumps(v).encode()", Loads: "Pyro4.util.JsonSerializer().loads",
			Refused: isPair, ReadAs: joined,
		}.Run(t)
	})
	t.Run("pyro4-client", func(t *testing.T) {
		// Pyro4 writes raw UTF-8, which cannot hold a surrogate: its client
		// fails before sending, so no name with one comes from it.
		codectest.SurrogateCheck{
			Codec: "json",
			Dumps: "Pyro4.util.JsonSerializer().dumps", Loads: "Pyro4.util.JsonSerializer().loads",
			Refused: isPair, PyDumpFails: codectest.SurrogateCase.HasSurrogate, SameBytes: true,
		}.Run(t)
	})
}
