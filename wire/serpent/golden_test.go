package serpent

import (
	"bytes"
	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSerpentGoldenFilesHaveCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(serpentGoldenDir, "*.serpent"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s (%v)", serpentGoldenDir, err)
	}
	known := map[string]bool{}
	for _, c := range serpentCases {
		known[c.name] = true
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".serpent")
		if !known[name] {
			t.Errorf("golden file %s has no case in serpentCases", name)
		}
		delete(known, name)
	}
	for name := range known {
		t.Errorf("case %s has no golden file", name)
	}
}

func TestSerpentGoldenDecode(t *testing.T) {
	codec := serpentCodec{}
	for _, c := range serpentCases {
		t.Run(c.name, func(t *testing.T) {
			golden := spReadGolden(t, c.name)
			if c.isCall() {
				got, err := wire.UnmarshalCall(codec, golden)
				if err != nil {
					t.Fatalf("UnmarshalCall: %v", err)
				}
				if want := c.value.(wire.Call); !spSameCall(got, want) {
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
	codec := serpentCodec{}
	for _, c := range serpentCases {
		if c.decodeOnly() {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			golden := spReadGolden(t, c.name)
			if !spHasUnorderedSet(c.value) {
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

func spReadGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(serpentGoldenDir, name+".serpent"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func spHasUnorderedSet(v any) bool {
	switch x := v.(type) {
	case wire.Call:
		return spHasUnorderedSet(wire.Tuple(x.Args)) || spHasUnorderedSet(x.Kwargs)
	case wire.Set:
		return len(x) > 1
	case wire.Tuple:
		return spAnyUnordered(x)
	case wire.List:
		return spAnyUnordered(x)
	case *wire.Dict:
		if x == nil {
			return false
		}
		for _, it := range x.Items {
			if spHasUnorderedSet(it.Key) || spHasUnorderedSet(it.Value) {
				return true
			}
		}
	}
	return false
}

func spAnyUnordered(items []wire.Value) bool {
	for _, it := range items {
		if spHasUnorderedSet(it) {
			return true
		}
	}
	return false
}

func spSameCall(a, b wire.Call) bool {
	return a.Object == b.Object && a.Method == b.Method && codectest.SameValueAnyOrder(wire.Tuple(a.Args), wire.Tuple(b.Args)) &&
		codectest.SameValueAnyOrder(spOrEmpty(a.Kwargs), spOrEmpty(b.Kwargs))
}

func spOrEmpty(d *wire.Dict) *wire.Dict {
	if d == nil {
		return &wire.Dict{}
	}
	return d
}
