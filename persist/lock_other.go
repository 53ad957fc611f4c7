//go:build !unix

package persist

import "os"

// lockFile opens path; without flock a second name server on the same file
// is not detected on this system.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, describeCreateError(path, err)
	}
	return f, nil
}

func lockHeld(string) (bool, error) { return false, nil }

func isReadOnlyFS(error) bool { return false }
