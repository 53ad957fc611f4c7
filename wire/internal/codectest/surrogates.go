package codectest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// SurrogateCase is a Python str that holds surrogates, or a control that
// looks like one: Py is its Python literal, Go the bytes it is here (see
// wire.AppendCodePoint).
type SurrogateCase struct {
	Name, Py, Go string
	// Pair says the str holds a high surrogate followed by a low one.
	Pair bool
}

// SurrogateCases are the strs every codec is checked with. Each must stay
// distinct from every other, U+FFFD included.
var SurrogateCases = []SurrogateCase{
	{Name: "high", Py: `'col\ud800'`, Go: "col\xed\xa0\x80"},
	{Name: "low", Py: `'col\udfff'`, Go: "col\xed\xbf\xbf"},
	{Name: "replacement", Py: `'col\ufffd'`, Go: "col\xef\xbf\xbd"},
	{Name: "low-high", Py: `'\udc00\udbff x'`, Go: "\xed\xb0\x80\xed\xaf\xbf x"},
	{Name: "mixed", Py: `'é\ud800€\U0001f600\udfff'`, Go: "é\xed\xa0\x80€\U0001f600\xed\xbf\xbf"},
	{Name: "pair", Py: `'a\ud83d\ude00b'`, Go: "a\xed\xa0\xbd\xed\xb8\x80b", Pair: true},
	{Name: "joined", Py: `'a\U0001f600b'`, Go: "a\U0001f600b"},
}

// HasSurrogate reports whether the case's str holds a surrogate.
func (c SurrogateCase) HasSurrogate() bool { return wire.HasSurrogate(c.Go) }

// Value is the value each case is sent as: the str as an item, a key and a
// value, so that every place a str can be is covered.
func (c SurrogateCase) Value() wire.Value {
	d := wire.NewDict(1)
	d.Set(c.Go, c.Go)
	return wire.List{c.Go, d}
}

// pyValue is Value in Python source.
func (c SurrogateCase) pyValue() string {
	return fmt.Sprintf("[%s, {%s: %s}]", c.Py, c.Py, c.Py)
}

// PySurrogates is what Python made of one case.
type PySurrogates struct {
	// Dumped is dumps(value), or nil when dumps raised DumpErr.
	Dumped  []byte
	DumpErr string
	// ReadsOurs is "ok" when loads(ours) == value, else what it got or
	// raised.
	ReadsOurs string
}

// PythonSurrogates runs, for every case, dumps (a Python expression naming
// a function of a value returning bytes) on the case's value and loads on
// ours[i], our encoding of it (nil to skip).
func PythonSurrogates(t *testing.T, dumps, loads string, ours [][]byte) []PySurrogates {
	t.Helper()
	pypeer.Require(t)
	var b strings.Builder
	for i, c := range SurrogateCases {
		fmt.Fprintf(&b, "%s\t%x\n", c.pyValue(), ours[i])
	}
	file := filepath.Join(t.TempDir(), "cases.txt")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `import sys, ast, json, marshal, pickle, msgpack, Pyro4.util
dumps = ` + dumps + `
loads = ` + loads + `
for line in open(sys.argv[1], encoding="utf-8"):
    lit, ours = line.rstrip("\n").split("\t")
    value = ast.literal_eval(lit)
    try:
        d = "ok " + dumps(value).hex()
    except Exception as x:
        d = "err " + type(x).__name__ + ": " + str(x)
    r = "skip"
    if ours:
        try:
            got = loads(bytes.fromhex(ours))
            r = "ok" if got == value and type(got[0]) is str else "got " + ascii(got)
        except Exception as x:
            r = "err " + type(x).__name__ + ": " + str(x)
    print((d + "\t" + r).encode("ascii", "backslashreplace").decode())
`
	out, err := pypeer.Run(t, 30*time.Second, pypeer.Env(), script, file)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(SurrogateCases) {
		t.Fatalf("python answered %d lines for %d cases:\n%s", len(lines), len(SurrogateCases), out)
	}
	res := make([]PySurrogates, len(lines))
	for i, l := range lines {
		d, r, _ := strings.Cut(l, "\t")
		if h, ok := strings.CutPrefix(d, "ok "); ok {
			if res[i].Dumped, err = hex.DecodeString(h); err != nil {
				t.Fatalf("python line %q: %v", l, err)
			}
		} else {
			res[i].DumpErr = strings.TrimPrefix(d, "err ")
		}
		res[i].ReadsOurs = r
	}
	return res
}

// SurrogateSeeds adds codec's encoding of every case to a fuzz target's
// corpus, where the codec can encode it.
func SurrogateSeeds(f *testing.F, codec string) {
	c := CodecFor(f, codec)
	for _, sc := range SurrogateCases {
		if data, err := c.Marshal(sc.Value()); err == nil {
			f.Add(data)
		}
	}
}

// SurrogateCheck says what one codec does with SurrogateCases.
type SurrogateCheck struct {
	Codec        string
	Dumps, Loads string // Python functions, as for PythonSurrogates
	// Refused says our Marshal refuses the case (with a Pyro4 exception);
	// nil refuses none.
	Refused func(SurrogateCase) bool
	// PyDumpFails says Python's dumps raises for the case.
	PyDumpFails func(SurrogateCase) bool
	// SameBytes says our encoding is byte for byte Python's.
	SameBytes bool
	// ReadAs is what Python's encoding of a case decodes to here, when it is
	// not the case's value; nil for none.
	ReadAs func(SurrogateCase) (wire.Value, bool)
}

// Run checks every case: ours encodes or refuses as said and reads back to
// the very value; Python reads our bytes as its very str; we read Python's
// bytes; and no two distinct strs come out equal. It returns what Python
// made of each case.
func (sc SurrogateCheck) Run(t *testing.T) []PySurrogates {
	t.Helper()
	c := CodecFor(t, sc.Codec)
	ours := make([][]byte, len(SurrogateCases))
	decoded := map[string]string{}
	for i, cs := range SurrogateCases {
		data, err := c.Marshal(cs.Value())
		if sc.Refused != nil && sc.Refused(cs) {
			var x *wire.Exception
			if err == nil || !errors.As(err, &x) {
				t.Errorf("%s: Marshal = %q, %v; want a refusal", cs.Name, data, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Marshal: %v", cs.Name, err)
			continue
		}
		ours[i] = data
		back, err := c.Unmarshal(data)
		if err != nil || !SameValue(back, cs.Value()) {
			t.Errorf("%s: our %q reads back as %s, %v; want %s", cs.Name, data, wire.Repr(back), err, wire.Repr(cs.Value()))
			continue
		}
		s := back.(wire.List)[0].(string)
		if other, dup := decoded[s]; dup {
			t.Errorf("%s and %s read back as the same str %q", cs.Name, other, s)
		}
		decoded[s] = cs.Name
	}
	py := PythonSurrogates(t, sc.Dumps, sc.Loads, ours)
	for i, cs := range SurrogateCases {
		p := py[i]
		if ours[i] != nil && p.ReadsOurs != "ok" {
			t.Errorf("%s: Python reads our %q as: %s", cs.Name, ours[i], p.ReadsOurs)
		}
		wantFail := sc.PyDumpFails != nil && sc.PyDumpFails(cs)
		if wantFail != (p.Dumped == nil) {
			t.Errorf("%s: Python dumps failing is %v, want %v (%s)", cs.Name, p.Dumped == nil, wantFail, p.DumpErr)
			continue
		}
		if p.Dumped == nil {
			continue
		}
		if sc.SameBytes && ours[i] != nil && !bytes.Equal(ours[i], p.Dumped) {
			t.Errorf("%s: we write %q, Python %q", cs.Name, ours[i], p.Dumped)
		}
		want := cs.Value()
		if sc.ReadAs != nil {
			if v, ok := sc.ReadAs(cs); ok {
				want = v
			}
		}
		got, err := c.Unmarshal(p.Dumped)
		if err != nil || !SameValue(got, want) {
			t.Errorf("%s: Python's %q reads here as %s, %v; want %s", cs.Name, p.Dumped, wire.Repr(got), err, wire.Repr(want))
		}
	}
	return py
}
