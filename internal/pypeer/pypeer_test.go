package pypeer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindTool(t *testing.T) {
	const script = "#!/usr/bin/python3\n# EASY-INSTALL-ENTRY-SCRIPT: 'Pyro4==4.82'\n"
	elf := "\x7fELF\x02\x01\x01\x00 our static binary"
	tests := []struct {
		name  string
		files map[string]string // in the bin directory; "->x" is a link to x
		want  string            // the file found, or
		err   string            // the error
	}{
		{"python3-pyro4's script", map[string]string{"pyro4-ns": script}, "pyro4-ns", ""},
		{"diverted by our package", map[string]string{"pyro4-ns.python3-pyro4": script, "pyro4-ns": "->pyro4", "pyro4": elf},
			"pyro4-ns.python3-pyro4", ""},
		{"our link without a diversion", map[string]string{"pyro4-ns": "->pyro4", "pyro4": elf},
			"", `reference pyro4-ns is not a Python script: DIR/pyro4-ns starts with "\x7fELF`},
		{"a diverted file that is not Python", map[string]string{"pyro4-ns.python3-pyro4": "#!/bin/sh\n", "pyro4-ns": script},
			"pyro4-ns", ""},
		{"neither is Python", map[string]string{"pyro4-ns.python3-pyro4": "#!/bin/sh\n", "pyro4-ns": "->pyro4", "pyro4": elf},
			"", `DIR/pyro4-ns.python3-pyro4 starts with "#!/bin/sh"; DIR/pyro4-ns starts with "\x7fELF`},
		{"not installed", map[string]string{}, "", "reference pyro4-ns not installed in DIR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				var err error
				if target, ok := strings.CutPrefix(content, "->"); ok {
					err = os.Symlink(target, filepath.Join(dir, name))
				} else {
					err = os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			got, err := findTool(dir, "pyro4-ns")
			if tc.err != "" {
				want := strings.ReplaceAll(tc.err, "DIR", dir)
				if err == nil || !strings.Contains(err.Error(), want) || got != "" {
					t.Fatalf("got %q, %v; want an error containing %q", got, err, want)
				}
				return
			}
			if err != nil || got != filepath.Join(dir, tc.want) {
				t.Fatalf("got %q, %v; want %s", got, err, filepath.Join(dir, tc.want))
			}
		})
	}
}
