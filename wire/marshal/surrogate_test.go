package marshal

import (
	"testing"

	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// TestMarshalSurrogates: CPython's marshal carries a str as its
// surrogatepass bytes, which is how a str is held here, so a lone surrogate
// goes both ways untouched; bytes that are no code point stay refused.
func TestMarshalSurrogates(t *testing.T) {
	for _, tt := range []struct {
		in   []byte
		want string
		ok   bool
	}{
		{mb("u", 6, "col\xed\xa0\x80"), "col\xed\xa0\x80", true},
		{mb("\xf5", 6, "col\xed\xbf\xbf"), "col\xed\xbf\xbf", true},
		{mb("u", 6, "\xed\xa0\xbd\xed\xb8\x80"), "\xed\xa0\xbd\xed\xb8\x80", true},
		{mb("u", 2, "\xed\xa0"), "", false},
		{mb("u", 3, "\xed\xc0\x80"), "", false},
		{mb("u", 3, "\xed\x9f\xc0"), "", false},
	} {
		v, err := codec{}.Unmarshal(tt.in)
		if tt.ok && (err != nil || v != tt.want) || !tt.ok && err == nil {
			t.Errorf("Unmarshal(%q) = %q, %v; want %q (ok %v)", tt.in, v, err, tt.want, tt.ok)
		}
	}
	for _, s := range []string{"col\xed\xa0\x80", "\xed\xbf\xbf"} {
		got, err := codec{}.Marshal(s)
		if want := string(mb("u", len(s), s)); err != nil || string(got) != want {
			t.Errorf("Marshal(%q) = %q, %v; want %q", s, got, err, want)
		}
	}
	if _, err := (codec{}).Marshal("col\xed\xa0"); err == nil {
		t.Errorf("Marshal of bytes that are no code point: no error")
	}
	codectest.SurrogateCheck{
		Codec: "marshal",
		Dumps: "Pyro4.util.MarshalSerializer().dumps", Loads: "Pyro4.util.MarshalSerializer().loads",
	}.Run(t)
}
