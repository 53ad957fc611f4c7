package wire_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
	_ "github.com/pyro4/pyro4/wire/codecs"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// ourVerdict is what UnmarshalCall makes of data, written as the cases are.
func ourVerdict(t *testing.T, c wire.Codec, data []byte) string {
	t.Helper()
	_, err := wire.UnmarshalCall(c, data)
	if err == nil {
		return ""
	}
	var x *wire.Exception
	if !errors.As(err, &x) || errors.Is(err, wire.ErrDecoderPanic) {
		t.Fatalf("UnmarshalCall: %v", err)
	}
	return x.Class + ": " + x.Text()
}

func TestClassCheck(t *testing.T) {
	for _, cc := range codectest.ClassCases() {
		for _, codec := range cc.CodecList() {
			t.Run(codec+"/"+cc.Name, func(t *testing.T) {
				c := codectest.CodecFor(t, codec)
				data, err := wire.MarshalCall(c, cc.Call())
				if err != nil {
					t.Fatal(err)
				}
				if got, want := ourVerdict(t, c, data), cc.Verdict(codec); got != want {
					t.Fatalf("got  %q\nwant %q", got, want)
				}
				// a plain value is not a call's arguments: no check
				if _, err := c.Unmarshal(data); err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
			})
		}
	}
}

// TestClassCheckPickle: pickle builds real objects, never from class dicts.
func TestClassCheckPickle(t *testing.T) {
	c := codectest.CodecFor(t, "pickle")
	data, err := wire.MarshalCall(c, wire.Call{Object: "o", Method: "m", Args: []wire.Value{codectest.ClassDict("custom.Thing")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wire.UnmarshalCall(c, data); err != nil {
		t.Fatalf("pickle refused a plain dict with a __class__ key: %v", err)
	}
}

// pyClassCheck loads every file of a directory with Pyro4's own serializer
// and prints its verdict, the way TestClassCheck writes one.
const pyClassCheck = `
import os, sys
import Pyro4.util
for name in sorted(os.listdir(sys.argv[1])):
    case, codec = name.rsplit(".", 1)
    with open(os.path.join(sys.argv[1], name), "rb") as f:
        data = f.read()
    try:
        Pyro4.util.get_serializer(codec).loadsCall(data)
        verdict = ""
    except Exception as x:
        verdict = "%s.%s: %s" % (type(x).__module__, type(x).__name__, x)
    print("%s.%s\t%s" % (case, codec, verdict.replace("\n", " ")))
`

// TestClassCheckAgreesWithPython has the real Pyro4 deserialize the same
// calls: its verdict must be the case's.
func TestClassCheckAgreesWithPython(t *testing.T) {
	pypeer.Require(t)
	dir := t.TempDir()
	want := map[string]string{}
	for i, cc := range codectest.ClassCases() {
		for _, codec := range cc.CodecList() {
			data, err := wire.MarshalCall(codectest.CodecFor(t, codec), cc.Call())
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("case%02d.%s", i, codec)
			if err := os.WriteFile(filepath.Join(dir, key), data, 0o600); err != nil {
				t.Fatal(err)
			}
			want[key] = cc.Verdict(codec)
		}
	}
	out, err := pypeer.Run(t, 60*time.Second, pypeer.Env(), pyClassCheck, dir)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		key, got, ok := strings.Cut(line, "\t")
		w, known := want[key]
		if !ok || !known {
			t.Fatalf("python printed %q", line)
		}
		seen++
		var i int
		fmt.Sscanf(key, "case%d", &i)
		if got != w {
			t.Errorf("%s (%s): Pyro4 says %q, the case says %q", key, codectest.ClassCases()[i].Name, got, w)
		}
	}
	if seen != len(want) {
		t.Fatalf("python judged %d calls, want %d", seen, len(want))
	}
}

// UnmarshalData checks classes as each serializer's Pyro4 loads does: a
// dict naming an unknown class is refused, but not by pickle, whose loads
// is pickle's own.
func TestUnmarshalDataChecksClasses(t *testing.T) {
	d := wire.NewDict(2)
	d.Append("__class__", "example.Thing")
	d.Append("x", int64(1))
	for _, name := range []string{"serpent", "json", "marshal", "msgpack", "pickle"} {
		codec, ok := wire.CodecByName(name)
		if !ok {
			t.Fatalf("no codec %s", name)
		}
		data, err := codec.Marshal(d)
		if err != nil {
			t.Fatalf("%s: marshal: %v", name, err)
		}
		v, err := wire.UnmarshalData(codec, data)
		if name == "pickle" {
			if err != nil || !wire.Equal(v, d) {
				t.Errorf("pickle: %v, %v; want the dict back", wire.Repr(v), err)
			}
			continue
		}
		var x *wire.Exception
		if !errors.As(err, &x) || x.Class != wire.ClassSerializeError || x.Message != "unsupported serialized class: example.Thing" {
			t.Errorf("%s: %v, %v; want SerializeError unsupported serialized class", name, v, err)
		}
	}
}
