package persist

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkDiskSync measures the machine, not this package: what one
// fdatasync costs after rewriting n 4 KB pages of an allocated file, the
// pages scattered or side by side. A bbolt commit is one such round for its
// dirty pages and one for its meta page, and the dirty pages of a batch of
// registrations are as scattered as their names, so this is the floor under
// BenchmarkBoltPut and the durable runs of the load tool.
func BenchmarkDiskSync(b *testing.B) {
	const pageSize, filePages = 4096, 8192
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "sync.dat"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, pageSize)
	// Written, not truncated: writes into holes cost block allocation.
	for i := range filePages {
		if _, err := f.WriteAt(page, int64(i)*pageSize); err != nil {
			b.Fatal(err)
		}
	}
	if err := syscall.Fdatasync(int(f.Fd())); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 8, 16} {
		for _, layout := range []string{"scattered", "contiguous"} {
			b.Run(fmt.Sprintf("pages=%d/%s", n, layout), func(b *testing.B) {
				for b.Loop() {
					base := rand.IntN(filePages - n)
					for i := range n {
						off := base + i
						if layout == "scattered" {
							off = rand.IntN(filePages)
						}
						if _, err := f.WriteAt(page, int64(off)*pageSize); err != nil {
							b.Fatal(err)
						}
					}
					if err := syscall.Fdatasync(int(f.Fd())); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
