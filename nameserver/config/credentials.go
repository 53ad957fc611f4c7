package config

import (
	"fmt"
	"path/filepath"
	"strings"
)

// credentialsVar is the directory systemd gives a unit's credentials
// (LoadCredential=, SetCredential=). Its path depends on the unit and the
// systemd version (/run/credentials/UNIT for a system service, elsewhere
// for a user one), so a config file names it by the variable.
const credentialsVar = "CREDENTIALS_DIRECTORY"

// expandCredentials replaces a leading $CREDENTIALS_DIRECTORY (or
// ${CREDENTIALS_DIRECTORY}) in a secret's file path with the variable's
// value from lookup. It expands nothing else: a key file's name may hold a
// '$' of its own, and a general expansion would let any environment item
// steer where a secret is read from.
func expandCredentials(name string, lookup func(string) (string, bool)) (string, error) {
	var rest string
	var found bool
	for _, prefix := range []string{"$" + credentialsVar, "${" + credentialsVar + "}"} {
		if r, ok := strings.CutPrefix(name, prefix); ok && (r == "" || r[0] == '/') {
			rest, found = r, true
			break
		}
	}
	if !found {
		return name, nil
	}
	dir, ok := lookup(credentialsVar)
	if !ok || dir == "" {
		return "", fmt.Errorf("$%s is not set: systemd sets it for a service with LoadCredential= (run under systemd, or name the key file's path)", credentialsVar)
	}
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("$%s=%q is not an absolute path", credentialsVar, dir)
	}
	return filepath.Join(dir, rest), nil
}
