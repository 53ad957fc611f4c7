package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/pyro4/pyro4/wire"
)

// FuzzParse checks that no input makes Parse panic, that every error names
// the file, and that whatever Parse accepts is within range.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "nsctl.toml.example")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("port = 1\n[nat]\nhost = \"h\"\n[[registration]]\nname = \"a\"\nuri = \"PYRO:a@h:1\"\nmetadata = [\"x\"]\n"))
	f.Add([]byte("registration = [{name = \"a\", uri = \"PYRO:a@h:1\", bogus = 1}]\n"))
	f.Add([]byte("comm_timeout = \"1h\"\nautoclean = 3.5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data, noEnv)
		if err != nil {
			ce, ok := err.(*Error)
			if !ok || ce.File != "fuzz.toml" || ce.Line < 0 {
				t.Fatalf("error %#v", err)
			}
			return
		}
		for _, p := range []*int{c.Port, c.BroadcastPort, c.NATPort} {
			if p != nil && (*p < 0 || *p > 65535) {
				t.Fatalf("port %d accepted", *p)
			}
		}
		seen := map[string]bool{}
		for _, e := range c.Registrations {
			if e.Name == "" || seen[e.Name] {
				t.Fatalf("registration name %q accepted", e.Name)
			}
			seen[e.Name] = true
			if _, err := wire.ParseURI(e.URI); err != nil {
				t.Fatalf("uri %q accepted: %v", e.URI, err)
			}
		}
		s := layered(c.Layer()).Settings()
		if _, err := s.Options(nil, nil); err != nil {
			t.Fatalf("accepted settings give no options: %v", err)
		}
	})
}

// FuzzScanKeys checks the key scanner against the decoder: for every
// document the decoder accepts, the scanner finds the same keys in the same
// order, on lines in order within the document.
func FuzzScanKeys(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "nsctl.toml.example")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("a = 1\n[[r]]\nx = \"\"\"\n\"\"\"\"\n[r.s]\ny = [{z = 1}, [ {w = 2} ]]\n"))
	f.Add([]byte("\"k\\u00e9\".'l' = { m = 1979-05-27 07:32:00Z, n = [1, 2,\n] }\n"))
	f.Add([]byte("x = '''a''''\ny = \"\"\"\\\n  b\"\"\"\n[ t . u ]\nv = -inf\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v map[string]any
		md, err := toml.Decode(string(data), &v)
		if err != nil {
			return
		}
		pos := scanKeys(data)
		lines := bytes.Count(data, []byte("\n")) + 1
		keys := md.Keys()
		if len(pos) != len(keys) {
			t.Fatalf("scanner found %d keys, decoder %d: %v vs %v", len(pos), len(keys), pos, keys)
		}
		for i, k := range keys {
			if !slices.Equal(pos[i].key, []string(k)) {
				t.Fatalf("key %d: scanner %q, decoder %q", i, pos[i].key, k)
			}
			if pos[i].line < 1 || pos[i].line > lines || i > 0 && pos[i].line < pos[i-1].line {
				t.Fatalf("key %q at line %d (of %d, previous %d)", k, pos[i].line, lines, pos[max(i-1, 0)].line)
			}
		}
	})
}
