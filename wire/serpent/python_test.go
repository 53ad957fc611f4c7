package serpent

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// TestSerpentPythonReadsOurs sends our encoding of every golden case through
// the real Pyro4: it must decode to what Pyro4 decodes from its own bytes.
func TestSerpentPythonReadsOurs(t *testing.T) {
	pypeer.Require(t)
	script, err := filepath.Abs("testdata/gen_serpent.py")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range goldenCases {
		if err := os.WriteFile(filepath.Join(dir, c.name+".serpent"), c.encode(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// the hash seed fixes the order of the lists Pyro4 makes from sets
	run := fmt.Sprintf("import runpy, sys; sys.argv = [%q, '--check', %q]; runpy.run_path(%q, run_name='__main__')",
		script, dir, script)
	out, err := pypeer.Run(t, time.Minute, pypeer.Env("PYTHONHASHSEED=0"), run)
	if err != nil {
		t.Fatalf("python check failed: %v\n%s", err, out)
	}
	for _, c := range goldenCases {
		if !strings.Contains(out, "ok "+c.name+"\n") {
			t.Errorf("case %s not confirmed by Python; output:\n%s", c.name, out)
		}
	}
}

// pyRoundTrip runs every input through serpent.loads plus Pyro4's float class
// conversion and, when that works, Pyro4's SerpentSerializer.dumps, and prints
// one line per input: "OK <hex of dumps>", "NODUMP <exception>" or
// "ERR <exception>".
const pyRoundTrip = `
import sys, warnings
warnings.simplefilter("ignore")
import serpent, Pyro4.util
ser = Pyro4.util.SerpentSerializer()

def floats(v):
    # Pyro4's recreate_classes, for the one class dict the codec converts
    t = type(v)
    if t is set:
        return {floats(x) for x in v}
    if t is list:
        return [floats(x) for x in v]
    if t is tuple:
        return tuple(floats(x) for x in v)
    if t is dict:
        if "__class__" in v:
            return ser.dict_to_class(v) if v.get("__class__") == "float" else v
        return {k: floats(x) for k, x in v.items()}
    return v

for line in open(sys.argv[1]):
    data = bytes.fromhex(line.strip())
    try:
        v = floats(serpent.loads(data))
    except Exception as e:
        print("ERR", type(e).__name__)
        continue
    try:
        print("OK", ser.dumps(v).hex())
    except Exception as e:
        print("NODUMP", type(e).__name__)
`

func runPyRoundTrip(t *testing.T, inputs [][]byte) []string {
	t.Helper()
	pypeer.Require(t)
	path := filepath.Join(t.TempDir(), "inputs.hex")
	var b strings.Builder
	for _, in := range inputs {
		b.WriteString(hex.EncodeToString(in))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := pypeer.Run(t, time.Minute, pypeer.Env(), pyRoundTrip, path)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != len(inputs) {
		t.Fatalf("python gave %d lines for %d inputs:\n%s", len(lines), len(inputs), out)
	}
	return lines
}

// syntaxInputs exercise the literal grammar: what ast.literal_eval
// accepts and what it refuses. Python's verdict is the expected one.
var syntaxInputs = []string{
	"1", "\n\n1\n\n", "  1", "\t1", "1,2", "1,", "(1\n,2)", "1 \\\n + 2j", "'a' 'b'", "('a'\n'b')", "b'a' b'b'",
	"u'x'", "Rb'x'", `'\777'`, `b'\777'`, `'\8'`, `'\q'`, `b'\N{BULLET}'`, `b'\u1234'`, "'''a\r\nb'''", "'a\\\r\nb'",
	"1\r\n", "00", "0_0", "0777j", "0777.5", "0x_ff", "1.e5", ".5j", "-(1)", "- 1", "+1", "(-1)+2j", "-1-2j", "set()",
	"set( )", "{1:'a',1.0:'b',True:'c'}", "{1,1.0,True}", "{}", "{1,}", "{1:2,}", "()", "1\x0c", "\x0c1",
	"1 # comment", "{'__class__':'float','value':'nan'}", "1e30000", "-1e30000", "1e-400", "'a\\\nb'", "'''a\nb'''",
	"''''''", "[1\n#x\n,2]", "\\\n1", "(1)", "((1,))", "1.5_5", "1_0.5", "1e1_0", "1E5J", "True", "None", `'\0'`,
	`'\a\b\f\v'`, `'\"'`, `'''\''''`, "\n   \n1", "1\n#x\n  #y\n", "'a'\\\n'b'", `r'\''`, "r'a\\\nb'", `rb'\x00'`,
	"'\x01\x7f'", `'\u00e9\U0001F600'`, `'col\ud800'`, `'\udfff\ud800'`, `'\ud83d\ude00'`,
	`'\U0000dc00'`, `{'\ud800': 1, '\udfff': 2}`, `{'\ud800', '\udfff', '\ufffd'}`, "(-\n1)", "0O17", "0B11", "[1,\n2,\n]\n\n", `'\x41'`, "{'a':1,'a':2}",
	"{'__class__':'float','value':'inf'}", "{'__class__':'float','value':' -Infinity '}",
	"{'__class__':'float','value':'1_0.5'}", "{'__class__':'float','value':5}", "{'__class__':'float','value':True}",
	"[{'__class__':'float','value':'-inf'}, ({'__class__':'float','value':'1.5'},), {'k': {'__class__':'float','value':'nan'}}]",
	"{'__class__':'x','args':({'__class__':'float','value':'nan'},)}", "{'__class__': 'Pyro4.core.URI', 'state': ('PYRO', 'o', None, 'h', 1)}",
	"{(1,2):3, (1,2):4}", "{1:{2:{3:[4,(5,{6})]}}}", "[1e16, 1e-5, 0.1, -0.0]", "99999999999999999999999",
	"-9223372036854775808", "9223372036854775808", "-9223372036854775809", "0xFFFFFFFFFFFFFFFF", "{1.0: 'a', 1: 'b'}",
	"{0.5: 1, 1e100: 2}", "{1e20: 'f', 100000000000000000000: 'i'}", "{True: 1, 1+0j: 2}", "{-0.0: 1, 0: 2}",
	"{(1, 2.0): 'a', (1.0, 2): 'b'}", "{'b': 1, b'b': 2}", "1e310j", "-0.0", "(1e30000-1e30000j)", "(0.0+1e30000j)",
	"[-5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]", "'\\\\\\'\\\"'", "\"it's\"", "'tab\\there'",
	"# serpent utf-8 python3.2\n('Pyro.NameServer','lookup',('x',),{})",
	strings.Repeat("9", wire.MaxIntDigits), "-" + strings.Repeat("9", wire.MaxIntDigits),
	"0x1" + strings.Repeat("0", 3573), "{0x1" + strings.Repeat("0", 20) + ": 1, 1208925819614629174706176: 2, 1.2089258196146292e+24: 3}",
	manyKeys(), manySetItems(), strings.Repeat("[", 150) + strings.Repeat("]", 150),
	// refused by Python
	"# c\n  1", "\n  1", "1\n2", "'a'\n'b'", "'a' b'b'", "ur'x'", "f'x'", `'\x4'`, `'\U00110000'`, "0777", "1__0",
	"1_", "0b", "1e", "1if 1 else 2", "1abc", "0xffj", "-(-1)", "--1", "-True", "(1+2j)+3j", "1+-2j", "1j+1", "1+2",
	"set([])", "{[1]:2}", "{(1,[2]):3}", "[1,,2]", "(,)", "[,]", "\xef\xbb\xbf1", "'a\nb'", `"""x""""`, "1;",
	"1 .real", "1._5", "0x", "0o8", "Ellipsis", "b'\xc3\xa9'", "1\x01", "{1:2, **x}", "[1 [0]]", "'a'[0]",
	"set\n()", "-\n1", "1e5_", "1_e5", "0_", "0b1_", "0x1__f", "1\xc2\xa01", "\xe4\xb8\xad", "", "   ",
	"# only a comment\n", "[", "(1,", "{1:", "{1:2", "'abc", "1 2", "{1:2:3}", "{1,2:3}", "{1:2,3}", "[1]]", "x",
	"none", "1 +", "--", "1\x00", "\xff", "{{}: 1}", "{set(): 1}", "{(1, set()): 1}", "{1: 2}[1]", "not 1", "~1",
	"1 < 2", "lambda: 1", "(1 for x in y)", "[*a]", "{**a}", "{'__class__':'float','value':'x'}",
	"{'__class__':'float'}", "{'__class__':'float','value':'0x10'}", "{'__class__':'float','value':None}",
	"{'__class__':'float','value':'1__0'}", "{'__class__':'float','value':'1e'}", "{'__class__':'float','value':'+-1'}",
	"{{'__class__':'float','value':'nan'}: 1}", "{({'__class__':'float','value':'nan'},): 1}", "{{'__class__':'float','value':'nan'}}",
	strings.Repeat("9", wire.MaxIntDigits+1), "(2**3)", "{None: 1}",
	strings.Repeat("[", 250) + strings.Repeat("]", 250), "'''abc", "b'''abc'' ", "rb'\\'", "1e99999999999999999999j+1",
	"(100000000000000000000000000000000000000" + strings.Repeat("0", 300) + "+1j)",
}

func manyKeys() string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "'k%d':%d, %d:'i%d', ", i, i, i+1000, i)
	}
	b.WriteString("'k3':99, 1003.0:'f', 1208925819614629174706176:'b', 1.2089258196146292e+24:'f', 0x10000000000000000000:'h', None:'n', b'k1':'b1', b'k1':'b2', 'k1':'s', 2.5:'f1', 2.5:'f2', -1e400:'ninf', 1e400:'inf', 5:1, 5.0:2, True:3, 1:4, (1,2):5, (1.0,2):6, 7j:7, (0+7j):8}")
	return b.String()
}

func manySetItems() string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, "%d, '%d', ", i%20, i%25)
	}
	b.WriteString("1.0, True, (1,), (1.0,)}")
	return b.String()
}

// TestSerpentDecodeMatchesPython checks that we accept exactly what Python's
// serpent.loads accepts among syntaxInputs, and read the same value.
func TestSerpentDecodeMatchesPython(t *testing.T) {
	inputs := make([][]byte, len(syntaxInputs))
	for i, s := range syntaxInputs {
		inputs[i] = []byte(s)
	}
	lines := runPyRoundTrip(t, inputs)
	codec := codec{}
	for i, in := range syntaxInputs {
		verdict, pyHex, _ := strings.Cut(lines[i], " ")
		short := in
		if len(short) > 80 {
			short = short[:80] + "..."
		}
		ours, err := codec.Unmarshal([]byte(in))
		if verdict == "ERR" {
			if err == nil {
				t.Errorf("%q: Python refuses it (%s), we read %s", short, pyHex, wire.Repr(ours))
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: Python reads it, we refuse: %v", short, err)
			continue
		}
		ourBytes, encErr := codec.Marshal(ours)
		if verdict == "NODUMP" {
			if encErr == nil {
				t.Errorf("%q: Python cannot send the value back (%s), we can: %s", short, pyHex, ourBytes)
			}
			continue
		}
		pyBytes, _ := hex.DecodeString(pyHex)
		pyValue, pyErr := codec.Unmarshal(pyBytes)
		switch {
		case encErr != nil && pyErr != nil:
			continue // Python writes what it cannot read back (a bytes key); we refuse to
		case encErr != nil:
			t.Errorf("%q: we cannot encode what we read (%s): %v", short, wire.Repr(ours), encErr)
			continue
		case pyErr != nil:
			t.Errorf("%q: cannot read Python's own encoding %q: %v", short, pyBytes, pyErr)
			continue
		}
		again, _ := codec.Unmarshal(ourBytes)
		if !codectest.SameValueAnyOrder(again, pyValue) {
			t.Errorf("%q: we read %s, Python read %s", short, wire.Repr(again), wire.Repr(pyValue))
		}
	}
}

// TestSerpentDecodeKnownDifferences pins where we deliberately differ from
// ast.literal_eval.
func TestSerpentDecodeKnownDifferences(t *testing.T) {
	codec := codec{}
	for _, c := range []struct{ in, wantErr string }{
		{`'\N{BULLET}'`, `\N{...} escapes are not supported`}, // no Unicode name table
		{"(set)()", "name 'set' is not a literal"},            // only the plain spelling
		{"...", "Ellipsis is not supported"},                  // no Value for it
	} {
		if _, err := codec.Unmarshal([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.wantErr)
		}
	}
	for _, c := range []struct {
		in   string
		want wire.Value
	}{
		{"1\\\n", int64(1)},  // Python: unexpected EOF
		{"1\n   ", int64(1)}, // Python: unexpected indent
	} {
		got, err := codec.Unmarshal([]byte(c.in))
		if err != nil || !codectest.SameValueAnyOrder(got, c.want) {
			t.Errorf("%q = %s, %v; want %s", c.in, wire.Repr(got), err, wire.Repr(c.want))
		}
	}
}

// TestSerpentBytesMatchPython encodes random values and checks that Pyro4,
// reading them and writing them again, produces exactly our bytes. The values
// avoid what makes byte equality impossible: sets of several members (Python
// orders them by hash) and bytes (which Python reads back as a dict).
func TestSerpentBytesMatchPython(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 400
	if testing.Short() {
		n = 100
	}
	inputs := make([][]byte, n)
	for i := range inputs {
		b, err := codec{}.Marshal(randomValue(rng, 0))
		if err != nil {
			t.Fatal(err)
		}
		inputs[i] = b
	}
	lines := runPyRoundTrip(t, inputs)
	failures := 0
	for i, line := range lines {
		verdict, pyHex, _ := strings.Cut(line, " ")
		pyBytes, _ := hex.DecodeString(pyHex)
		if verdict != "OK" || string(pyBytes) != string(inputs[i]) {
			failures++
			if failures <= 5 {
				t.Errorf("ours:   %q\npython: %s %q", inputs[i], verdict, pyBytes)
			}
		}
	}
}

var runePool = [][2]rune{
	{0x20, 0x7e}, {0, 0x1f}, {0x7f, 0xff}, {0x100, 0x17f}, {0x370, 0x3ff}, {0x400, 0x4ff}, {0x2000, 0x206f},
	{0x3000, 0x303f}, {0x4e00, 0x4fff}, {0xe000, 0xe0ff}, {0xfff0, 0xfffd}, {0x1f300, 0x1f64f}, {0x10fff0, 0x10ffff},
	{0xe0000, 0xe007f}, {0x20, 0x7e}, {0x20, 0x7e},
}

func randomString(rng *rand.Rand) string {
	var b strings.Builder
	for n := rng.IntN(12); n > 0; n-- {
		r := runePool[rng.IntN(len(runePool))]
		b.WriteRune(r[0] + rng.Int32N(r[1]-r[0]+1))
	}
	return b.String()
}

func randomFloat(rng *rand.Rand) float64 {
	switch rng.IntN(4) {
	case 0:
		return math.Float64frombits(rng.Uint64())
	case 1:
		return float64(rng.IntN(2000)-1000) / 8
	case 2:
		return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
	}
	return []float64{math.Inf(1), math.Inf(-1), math.NaN(), 0, math.Copysign(0, -1), 1e16, 1e-4, 5e-324}[rng.IntN(8)]
}

func randomKey(rng *rand.Rand, i int) wire.Value {
	switch rng.IntN(4) {
	case 0:
		return int64(i*7 - 50)
	case 1:
		return wire.Tuple{fmt.Sprint("t", i), int64(i)}
	}
	return fmt.Sprint(randomString(rng), "#", i)
}

func randomValue(rng *rand.Rand, depth int) wire.Value {
	kind := rng.IntN(14)
	if depth >= 4 && kind >= 9 {
		kind = rng.IntN(9)
	}
	switch kind {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return int64(rng.Uint64())
	case 3:
		n := new(big.Int).Lsh(big.NewInt(int64(rng.Uint64()>>1)), uint(64+rng.IntN(200)))
		if rng.IntN(2) == 0 {
			n.Neg(n)
		}
		return n
	case 4, 5:
		return randomFloat(rng)
	case 6:
		re, im := randomFloat(rng), randomFloat(rng)
		if math.IsNaN(re) || math.IsNaN(im) || (im == 0 && math.Signbit(im)) || (re == 0 && math.Signbit(re)) {
			return complex(1, 2)
		}
		return complex(re, im)
	case 7, 8:
		return randomString(rng)
	case 9, 10:
		items := make([]wire.Value, rng.IntN(5))
		for i := range items {
			items[i] = randomValue(rng, depth+1)
		}
		if kind == 9 {
			return wire.Tuple(items)
		}
		return wire.List(items)
	case 11:
		if rng.IntN(2) == 0 {
			return wire.Set{}
		}
		return wire.Set{randomKey(rng, 0)}
	}
	d := wire.NewDict(4)
	for i := rng.IntN(6); i > 0; i-- {
		d.Append(randomKey(rng, i), randomValue(rng, depth+1))
	}
	return d
}
