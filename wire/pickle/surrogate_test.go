package pickle

import (
	"testing"

	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// TestPickleSurrogates: pickle carries a str as its surrogatepass bytes
// (and protocol 0 as raw-unicode-escape), which is how a str is held here,
// so a lone surrogate goes both ways untouched.
func TestPickleSurrogates(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"X\x06\x00\x00\x00col\xed\xa0\x80.", "col\xed\xa0\x80", true},
		{"\x8c\x06col\xed\xbf\xbf.", "col\xed\xbf\xbf", true},
		{"Vcol\\ud800\\U0000dfff\n.", "col\xed\xa0\x80\xed\xbf\xbf", true},
		{"V\\u00e9\xe9\n.", "éé", true},
		{"X\x02\x00\x00\x00\xed\xa0.", "", false},
		{"V\\U00110000\n.", "", false},
	} {
		v, err := codec{}.Unmarshal([]byte(tt.in))
		if tt.ok && (err != nil || v != tt.want) || !tt.ok && err == nil {
			t.Errorf("Unmarshal(%q) = %q, %v; want %q (ok %v)", tt.in, v, err, tt.want, tt.ok)
		}
	}
	if _, err := (codec{}).Marshal("col\xed\xa0"); err == nil {
		t.Errorf("Marshal of bytes that are no code point: no error")
	}
	codectest.SurrogateCheck{
		Codec: "pickle",
		Dumps: "Pyro4.util.PickleSerializer().dumps", Loads: "Pyro4.util.PickleSerializer().loads",
	}.Run(t)
}
