package codectest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// PyVerdict is what Python made of one payload: ok with repr(value), or
// the exception type.
type PyVerdict struct {
	ok   bool
	text string
}

// PythonLoads runs loads (a Python expression naming a function of bytes)
// over every input in one Python process.
func PythonLoads(t *testing.T, loads string, inputs [][]byte) []PyVerdict {
	t.Helper()
	pypeer.Require(t)
	var lines []string
	for _, in := range inputs {
		lines = append(lines, fmt.Sprintf("%x", in))
	}
	file := filepath.Join(t.TempDir(), "inputs.hex")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `import sys, json, marshal, pickle, msgpack, Pyro4.util
loads = ` + loads + `
for line in open(sys.argv[1]):
    try:
        print("ok", repr(loads(bytes.fromhex(line.strip()))).encode("unicode_escape").decode())
    except Exception as x:
        print("err", type(x).__name__)
`
	out, err := pypeer.Run(t, 30*time.Second, pypeer.Env("PYTHONHASHSEED=0"), script, file)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	outLines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(outLines) != len(inputs) {
		t.Fatalf("python answered %d lines for %d inputs:\n%s", len(outLines), len(inputs), out)
	}
	verdicts := make([]PyVerdict, len(inputs))
	for i, l := range outLines {
		kind, text, _ := strings.Cut(l, " ")
		verdicts[i] = PyVerdict{ok: kind == "ok", text: text}
	}
	return verdicts
}

// cgPyEscape matches the unicode_escape the script applies to repr.
func cgPyEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r >= 0x7f && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x100 && r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r >= 0x10000:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SameInModel marks an input both sides accept whose Python type the value
// model folds into another (bytearray into bytes, frozenset into set).
const SameInModel = "same in the value model"

// AgreeWithPython decodes every input with codec and checks that we accept
// what Python accepts, with the same repr, and refuse what it refuses.
// differ lists inputs where we deliberately refuse what Python accepts, or
// (SameInModel) where only the repr differs.
func AgreeWithPython(t *testing.T, codec, loads string, inputs [][]byte, differ map[string]string) {
	t.Helper()
	verdicts := PythonLoads(t, loads, inputs)
	c := CodecFor(t, codec)
	for i, in := range inputs {
		v, err := c.Unmarshal(in)
		py := verdicts[i]
		if why, ok := differ[string(in)]; ok && why == SameInModel {
			if err != nil || !py.ok {
				t.Errorf("%q: both should accept: we got %v, python %v", in, err, py)
			}
			continue
		} else if ok {
			if err == nil || !py.ok {
				t.Errorf("%q: expected a deliberate difference (%s): we got %v, python %v", in, why, err, py)
			}
			continue
		}
		switch {
		case err != nil && py.ok:
			t.Errorf("%q: we refuse (%v) what Python reads as %s", in, err, py.text)
		case err == nil && !py.ok:
			t.Errorf("%q: we read %s where Python raises %s", in, wire.Repr(v), py.text)
		case err == nil && cgPyEscape(wire.Repr(v)) != py.text:
			t.Errorf("%q: we read %s, Python %s", in, cgPyEscape(wire.Repr(v)), py.text)
		}
	}
}

// Verdict reports whether Python read the payload, and repr() of the value
// or the exception type.
func (v PyVerdict) Verdict() (ok bool, text string) { return v.ok, v.text }
