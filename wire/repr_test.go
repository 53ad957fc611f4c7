package wire

import (
	"encoding/json"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// goldenValues is testdata/golden/values.json, written by gen_values.py.
type goldenValues struct {
	Python     string               `json:"python"`
	Unicode    string               `json:"unicode"`
	Printable  [][2]rune            `json:"printable"`
	Unassigned [][2]rune            `json:"unassigned"`
	Repr       [][2]json.RawMessage `json:"repr"`
	Equal      [][3]json.RawMessage `json:"equal"`
	Exceptions [][2]json.RawMessage `json:"exceptions"`
}

func loadGoldenValues(t testing.TB) *goldenValues {
	t.Helper()
	js, err := os.ReadFile(filepath.Join("testdata", "golden", "values.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenValues
	if err := json.Unmarshal(js, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Repr) < 300 || len(g.Equal) < 50 || len(g.Exceptions) < 10 {
		t.Fatalf("golden values incomplete: %d/%d/%d", len(g.Repr), len(g.Equal), len(g.Exceptions))
	}
	return &g
}

func jsonString(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// parseHexFloat reads float.hex() output; "-nan" keeps its sign bit.
func parseHexFloat(t testing.TB, s string) float64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	f, err := strconv.ParseFloat(strings.TrimPrefix(s, "-"), 64)
	if err != nil {
		t.Fatalf("float %q: %v", s, err)
	}
	if neg {
		return math.Copysign(f, -1)
	}
	return f
}

func TestReprMatchesPython(t *testing.T) {
	for _, c := range loadGoldenValues(t).Repr {
		v, want := taggedValue(t, c[0]), jsonString(t, c[1])
		if got := Repr(v); got != want {
			t.Errorf("Repr(%s) = %s, Python: %s", c[0], got, want)
		}
		if f, ok := v.(float64); ok && !math.IsNaN(f) {
			if back, err := strconv.ParseFloat(FloatRepr(f), 64); err != nil || back != f {
				t.Errorf("FloatRepr(%v) = %s does not read back", f, FloatRepr(f))
			}
		}
	}
}

// Every non-ASCII character Python leaves unescaped in a str repr must be
// one we leave unescaped, except characters Python's (older) Unicode
// database does not know yet.
func TestStrReprPrintableMatchesPython(t *testing.T) {
	g := loadGoldenValues(t)
	printable, unassigned := inRanges(g.Printable), inRanges(g.Unassigned)
	diffs := 0
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) || unassigned(r) {
			continue
		}
		s := string(r)
		kept := StrRepr(s) == "'"+s+"'"
		if kept != printable(r) {
			diffs++
			if diffs < 20 {
				t.Errorf("%U: kept=%v, Python isprintable=%v (repr %s)", r, kept, printable(r), StrRepr(s))
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d characters differ", diffs)
	}
}

func TestReprOthers(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{new(big.Int).Lsh(big.NewInt(1), 70), "1180591620717411303424"},
		{Tuple{}, "()"},
		{Set{"x"}, "{'x'}"},
		{NewDict(0), "{}"},
		{(*Dict)(nil), "{}"},
		{struct{}{}, "<struct {}>"},
	}
	for _, tt := range tests {
		if got := Repr(tt.v); got != tt.want {
			t.Errorf("Repr(%#v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func BenchmarkRepr(b *testing.B) {
	v := List{"PYRO:obj@127.0.0.1:9999", int64(42), 1.5, Set{"meta1", "meta2"}, Tuple{nil, true}}
	b.ReportAllocs()
	for b.Loop() {
		Repr(v)
	}
}
