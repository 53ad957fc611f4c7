//go:build !unix

package commands

import "testing"

func installLinksAsNobody(t *testing.T, dir string) (int, string) {
	t.Skip("running as another user needs unix credentials")
	return 0, ""
}
