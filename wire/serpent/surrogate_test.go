package serpent

import (
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// TestSerpentSurrogates: a str with lone surrogates is written as repr
// writes it (a \u escape) and read back as the same str, never as U+FFFD,
// which would merge distinct names.
func TestSerpentSurrogates(t *testing.T) {
	tests := []struct {
		in   wire.Value
		want string
	}{
		{"col\xed\xa0\x80", `'col\ud800'`},
		{"col\xed\xbf\xbf", `'col\udfff'`},
		{"\xed\xa0\xbd\xed\xb8\x80", `'\ud83d\ude00'`},
		{"'\xed\xa0\x80\"", `'\'\ud800"'`},
		{"col\xed\xa0", `'col` + "\ufffd\ufffd" + `'`}, // no code point: nothing decodes to it
	}
	for _, tt := range tests {
		got, err := codec{}.Marshal(tt.in)
		if err != nil || string(got) != header+tt.want {
			t.Errorf("Marshal(%q) = %q, %v; want %q", tt.in, got, err, header+tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{`'col\ud800'`, "col\xed\xa0\x80"},
		{`'col\udfff'`, "col\xed\xbf\xbf"},
		{`'\U0000d800'`, "\xed\xa0\x80"},
		{`'\ud83d\ude00'`, "\xed\xa0\xbd\xed\xb8\x80"}, // two code points, as in Python
		{`'\ud800\\'`, "\xed\xa0\x80\\"},
	} {
		v, err := codec{}.Unmarshal([]byte(tt.in))
		if err != nil || v != tt.want {
			t.Errorf("Unmarshal(%s) = %q, %v; want %q", tt.in, v, err, tt.want)
		}
	}
	codectest.SurrogateCheck{
		Codec: "serpent",
		Dumps: "Pyro4.util.SerpentSerializer().dumps", Loads: "Pyro4.util.SerpentSerializer().loads",
		SameBytes: true,
	}.Run(t)
}
