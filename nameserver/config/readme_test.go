package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeListsEveryEnvItem: the README's environment tables name every
// PYRO_* item, and each accepted one in the table of those without effect.
func TestReadmeListsEveryEnvItem(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(text)
	accepted := readme[strings.Index(readme, "Accepted (checked, then without effect)"):]
	accepted = accepted[:strings.Index(accepted, "\n\n#")]
	for _, it := range EnvItems() {
		if !strings.Contains(readme, "`"+it.Name+"`") {
			t.Errorf("README does not list %s", it.Name)
		}
		if it.Handling == Accepted && !strings.Contains(accepted, "`"+it.Name+"`") {
			t.Errorf("README does not list %s among the accepted items", it.Name)
		}
	}
}
