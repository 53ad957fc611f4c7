package wire_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	_ "github.com/pyro4/pyro4/wire/codecs"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// pyro4IDs are the serializer ids Pyro4 assigns ("never change this").
var pyro4IDs = map[string]uint16{"serpent": wire.SerpentID, "json": wire.JSONID, "marshal": wire.MarshalID, "pickle": wire.PickleID,
	"dill": wire.DillID, "msgpack": wire.MsgpackID, "cloudpickle": wire.CloudpickleID}

func TestRegisteredCodecs(t *testing.T) {
	names := wire.CodecNames()
	if !slices.IsSorted(names) {
		t.Errorf("CodecNames not sorted: %q", names)
	}
	for _, n := range names {
		c, ok := wire.CodecByName(n)
		if !ok || c.Name() != n {
			t.Fatalf("CodecByName(%q) = %v, %v", n, c, ok)
		}
		if want, known := pyro4IDs[n]; !known || c.ID() != want {
			t.Errorf("codec %q has id %d, Pyro4 uses %d", n, c.ID(), want)
		}
		if byID, ok := wire.CodecByID(c.ID()); !ok || byID != c {
			t.Errorf("CodecByID(%d) is not the %q codec", c.ID(), n)
		}
		if up, ok := wire.CodecByName(" " + strings.ToUpper(n) + " "); !ok || up != c {
			t.Errorf("CodecByName is not lenient about case and spaces for %q", n)
		}
	}
	if _, ok := wire.CodecByID(0); ok {
		t.Error("codec for id 0")
	}
	if _, ok := wire.CodecByName("dill"); ok {
		t.Error("dill is not implemented but registered")
	}
}

func requireCodecs(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := wire.CodecByName(n); !ok {
			t.Fatalf("codec %q not registered", n)
		}
	}
}

func TestParseAccepted(t *testing.T) {
	requireCodecs(t, "serpent", "json", "marshal")
	tests := []struct {
		in    string
		names []string
		err   string
	}{
		{strings.Join(wire.DefaultAccepted, ","), []string{"json", "marshal", "serpent"}, ""},
		{"serpent,marshal,json", []string{"json", "marshal", "serpent"}, ""},
		{"json", []string{"json"}, ""},
		{"serpent,serpent,msgpack,pickle", []string{"msgpack", "pickle", "serpent"}, ""},
		// Pyro4 splits on commas only and looks each name up as it is
		{"serpent, json", nil, "serializer ' json' is unknown or not available"},
		{"serpent json", nil, "serializer 'serpent json' is unknown or not available"},
		{"JSON", nil, "serializer 'JSON' is unknown or not available"},
		{"serpent,,serpent", nil, "serializer '' is unknown or not available"},
		{"json,", nil, "serializer '' is unknown or not available"},
		{"serpent,yaml,nope", nil, "serializer 'yaml' is unknown or not available"},
		{"dill", nil, "serializer 'dill' is unknown or not available"},
		{"", nil, "serializer '' is unknown or not available"},
	}
	for _, tt := range tests {
		acc, err := wire.ParseAccepted(tt.in)
		if tt.err != "" {
			var x *wire.Exception
			if !errors.As(err, &x) || x.Class != wire.ClassSerializeError || x.Message != tt.err {
				t.Errorf("ParseAccepted(%q) error %v, want SerializeError %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(acc.Names(), tt.names) {
			t.Errorf("ParseAccepted(%q) = %q, %v, want %q", tt.in, acc.Names(), err, tt.names)
		}
		for _, n := range tt.names {
			if !acc[pyro4IDs[n]] {
				t.Errorf("ParseAccepted(%q) does not accept id %d", tt.in, pyro4IDs[n])
			}
		}
	}
}

// TestDecoderPanicIsMarked: a recovered decoder panic is told apart from a
// refusal of the input, and still reaches a peer as a SerializeError.
func TestDecoderPanicIsMarked(t *testing.T) {
	for _, codec := range []string{"json", "serpent"} {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = wire.PanicError(codec, r)
				}
			}()
			var m map[string]int
			m["x"] = 1 // a bug
			return nil
		}()
		if !errors.Is(err, wire.ErrDecoderPanic) {
			t.Fatalf("%s: error %v is not marked", codec, err)
		}
		var x *wire.Exception
		if !errors.As(err, &x) || x.Class != wire.ClassSerializeError || !strings.Contains(x.Message, codec+": internal error: ") {
			t.Fatalf("%s: error %v does not carry a SerializeError", codec, err)
		}
	}
	err := func() (err error) {
		defer wire.RecoverPanic("marshal", &err)
		panic("boom")
	}()
	if !errors.Is(err, wire.ErrDecoderPanic) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("RecoverPanic: %v", err)
	}
	for _, name := range wire.CodecNames() {
		_, err := codectest.CodecFor(t, name).Unmarshal([]byte("\xff\xfe not a value"))
		if err == nil || errors.Is(err, wire.ErrDecoderPanic) {
			t.Errorf("%s: a refusal of bad input is %v", name, err)
		}
	}
}
