package persist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreDirs checks what a store does about its directory, for every
// file-backed kind: a missing one is created (mode 0750), one that cannot
// be written to gives an error naming the path given and the cause, never
// a temporary file.
func TestStoreDirs(t *testing.T) {
	kinds := []struct {
		name string
		open func(path string) (Store, error)
	}{
		{"bolt", func(p string) (Store, error) { return OpenBolt(p, BoltOptions{}) }},
		{"sql", func(p string) (Store, error) { return OpenSQL(p) }},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			base := t.TempDir()
			path := filepath.Join(base, "var", "lib", "pyro4", "ns.db")
			s, err := k.open(path)
			if err != nil {
				t.Fatalf("missing directory: %v", err)
			}
			mustPut(t, s, Entry{Name: "a", URI: "PYRO:a@h:1"})
			s.Close()
			fi, err := os.Stat(filepath.Dir(path))
			if err != nil || fi.Mode().Perm() != 0o750 {
				t.Fatalf("created directory: %v %v, want mode 0750", fi.Mode(), err)
			}

			if os.Geteuid() == 0 {
				return // root writes anywhere: no permission error to show
			}
			ro := filepath.Join(base, "ro")
			if err := os.Mkdir(ro, 0o500); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(ro, "ns.db")
			if s, err := k.open(p); err == nil {
				s.Close()
				t.Fatal("opened a store in a read-only directory")
			} else if msg := err.Error(); !strings.Contains(msg, p) || !strings.Contains(msg, "permission denied") || strings.Contains(msg, ".new-") {
				t.Fatalf("read-only directory: %q", msg)
			}
		})
	}
}
