package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/pyro4/pyro4/"

// The layers of docs/architecture.md: each package of ours may import only
// the packages of ours listed for it (a prefix ending in "/" stands for a
// whole subtree). A package missing here fails the test, so a new one is
// placed on purpose. Test files are exempt: tests may reach across layers
// for peers and fixtures.
var layers = map[string][]string{
	".":                       {"commands"},
	"commands":                {"locator", "nameserver", "nameserver/config", "persist", "wire", "wire/codecs", "tlsconf", "metrics", "opsweb"},
	"cmd/pyro4-bench":         {"nameserver", "persist", "wire", "wire/codecs"},
	"nameserver/config":       {"nameserver", "persist", "tlsconf", "wire", "wire/codecs"},
	"nameserver":              {"persist", "wire", "wire/codecs", "metrics", "tlsconf"},
	"locator":                 {"wire", "wire/codecs", "tlsconf"},
	"opsweb":                  {"persist", "metrics"},
	"metrics":                 {},
	"tlsconf":                 {},
	"tlsconf/tlstest":         {},
	"persist":                 {"persist/bdbhash"},
	"persist/bdbhash":         {}, // a file format reader below persist, for dbm: sources
	"persist/":                {"persist"},
	"wire":                    {},
	"wire/codecs":             {"wire/json", "wire/marshal", "wire/msgpack", "wire/pickle", "wire/serpent"},
	"wire/json":               {"wire"},
	"wire/marshal":            {"wire"},
	"wire/msgpack":            {"wire"},
	"wire/pickle":             {"wire"},
	"wire/serpent":            {"wire"},
	"wire/internal/codectest": {"wire", "internal/pypeer"},
	"internal/":               {"internal/", "persist", "wire", "wire/codecs"},
	"release":                 {"nameserver/config"},
	"attack":                  {"internal/", "persist", "wire", "wire/codecs"},
}

func allowedFor(pkg string) ([]string, bool) {
	if a, ok := layers[pkg]; ok {
		return a, true
	}
	for p, a := range layers {
		if strings.HasSuffix(p, "/") && strings.HasPrefix(pkg, p) {
			return a, true
		}
	}
	return nil, false
}

func permits(allowed []string, imp string) bool {
	for _, a := range allowed {
		if imp == a || strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a) {
			return true
		}
	}
	return false
}

// TestLayers keeps the imports one way (commands -> nameserver, locator ->
// wire, persist; wire imports nothing of ours; no codec imports another).
func TestLayers(t *testing.T) {
	imports := map[string]map[string]string{} // package -> import -> file
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(p))
		for _, is := range f.Imports {
			imp, _ := strconv.Unquote(is.Path.Value)
			if !strings.HasPrefix(imp, module) {
				continue
			}
			if imports[pkg] == nil {
				imports[pkg] = map[string]string{}
			}
			imports[pkg][strings.TrimPrefix(imp, module)] = path.Base(p)
		}
		if imports[pkg] == nil {
			imports[pkg] = map[string]string{}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 10 {
		t.Fatalf("found only %d packages; is the test run from the module root?", len(imports))
	}
	for pkg, imps := range imports {
		allowed, ok := allowedFor(pkg)
		if !ok {
			t.Errorf("package %s has no place in the layers: add it to layers (and docs/architecture.md)", pkg)
			continue
		}
		for imp, file := range imps {
			if !permits(allowed, imp) {
				t.Errorf("%s/%s imports %s, which its layer does not allow", pkg, file, imp)
			}
		}
	}
}
