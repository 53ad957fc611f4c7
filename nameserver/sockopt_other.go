//go:build !unix

package nameserver

func setReuseAddr(uintptr) error { return nil }
