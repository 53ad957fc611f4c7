//go:build unix

package persist

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on path (creating it empty when it does
// not exist) and returns the descriptor that holds it. flock locks are apart
// from the POSIX locks sqlite takes, so they do not disturb each other.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, describeCreateError(path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("store %s is %w", path, ErrInUse)
		}
		return nil, fmt.Errorf("store %s: lock: %w", path, err)
	}
	return f, nil
}

// lockHeld reports whether a process holds the lock of lockFile on path.
func lockHeld(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}

func isReadOnlyFS(err error) bool { return errors.Is(err, syscall.EROFS) }
