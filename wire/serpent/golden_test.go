package serpent

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

func TestSerpentGoldenFilesHaveCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.serpent"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s (%v)", goldenDir, err)
	}
	known := map[string]bool{}
	for _, c := range goldenCases {
		known[c.name] = true
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".serpent")
		if !known[name] {
			t.Errorf("golden file %s has no case in goldenCases", name)
		}
		delete(known, name)
	}
	for name := range known {
		t.Errorf("case %s has no golden file", name)
	}
}

func TestSerpentGoldenDecode(t *testing.T) {
	codec := codec{}
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			golden := readGolden(t, c.name)
			if c.isCall() {
				got, err := wire.UnmarshalCall(codec, golden)
				if err != nil {
					t.Fatalf("UnmarshalCall: %v", err)
				}
				if want := c.value.(wire.Call); !sameCall(got, want) {
					t.Fatalf("UnmarshalCall = %#v\nwant %#v", got, want)
				}
				return
			}
			got, err := codec.Unmarshal(golden)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !codectest.SameValueAnyOrder(got, c.want()) {
				t.Fatalf("Unmarshal = %s\nwant %s", wire.Repr(got), wire.Repr(c.want()))
			}
		})
	}
}

// TestSerpentGoldenEncode checks that we send Pyro4's exact bytes: for every
// value, unless a set with several members makes the order arbitrary; and
// for every decoded golden value, since decoding keeps the order it read.
func TestSerpentGoldenEncode(t *testing.T) {
	codec := codec{}
	for _, c := range goldenCases {
		if c.decodeOnly() {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			golden := readGolden(t, c.name)
			if !hasUnorderedSet(c.value) {
				if got := c.encode(t); !bytes.Equal(got, golden) {
					t.Errorf("encoding of the value:\n got %q\nwant %q", got, golden)
				}
			}
			if c.decoded != nil {
				return // decoded bytes are a dict; re-encoding it is not the golden form
			}
			var again []byte
			if c.isCall() {
				call, err := wire.UnmarshalCall(codec, golden)
				if err != nil {
					t.Fatal(err)
				}
				again, err = wire.MarshalCall(codec, call)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				v, err := codec.Unmarshal(golden)
				if err != nil {
					t.Fatal(err)
				}
				if again, err = codec.Marshal(v); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(again, golden) {
				t.Errorf("re-encoding of the decoded golden value:\n got %q\nwant %q", again, golden)
			}
		})
	}
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name+".serpent"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hasUnorderedSet(v any) bool {
	switch x := v.(type) {
	case wire.Call:
		return hasUnorderedSet(wire.Tuple(x.Args)) || hasUnorderedSet(x.Kwargs)
	case wire.Set:
		return len(x) > 1
	case wire.Tuple:
		return anyUnordered(x)
	case wire.List:
		return anyUnordered(x)
	case *wire.Dict:
		if x == nil {
			return false
		}
		for _, it := range x.Items {
			if hasUnorderedSet(it.Key) || hasUnorderedSet(it.Value) {
				return true
			}
		}
	}
	return false
}

func anyUnordered(items []wire.Value) bool {
	for _, it := range items {
		if hasUnorderedSet(it) {
			return true
		}
	}
	return false
}

func sameCall(a, b wire.Call) bool {
	return a.Object == b.Object && a.Method == b.Method && codectest.SameValueAnyOrder(wire.Tuple(a.Args), wire.Tuple(b.Args)) &&
		codectest.SameValueAnyOrder(orEmpty(a.Kwargs), orEmpty(b.Kwargs))
}

func orEmpty(d *wire.Dict) *wire.Dict {
	if d == nil {
		return &wire.Dict{}
	}
	return d
}
