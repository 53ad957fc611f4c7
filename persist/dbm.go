package persist

import "fmt"

// readDBM reads Pyro4's dbm store. Not yet.
func readDBM(path string) ([]Entry, error) {
	return nil, fmt.Errorf("store dbm:%s: reading Pyro4's dbm files is not implemented yet", path)
}
