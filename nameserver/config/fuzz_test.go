package config

import (
	"os"
	"path/filepath"
	"testing"

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
		s := Defaults()
		c.Apply(&s)
		if _, err := s.Options(nil, nil); err != nil {
			t.Fatalf("accepted settings give no options: %v", err)
		}
	})
}
