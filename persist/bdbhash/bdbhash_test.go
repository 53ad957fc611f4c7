package bdbhash

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// golden reads NAME.db and the pairs Python's dbm.ndbm listed for it
// (testdata/gen_dbm.py made both).
func golden(t *testing.T, name string) ([]byte, [][2]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".db"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var want [][2]string
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	return data, want
}

// latin1 is how gen_dbm.py wrote the bytes into JSON.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func TestReadGolden(t *testing.T) {
	for _, name := range []string{"small", "many"} {
		t.Run(name, func(t *testing.T) {
			data, want := golden(t, name)
			got, err := Read(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d pairs, Python listed %d", len(got), len(want))
			}
			for i, p := range got {
				if latin1(p.Key) != want[i][0] || latin1(p.Value) != want[i][1] {
					t.Fatalf("pair %d = %.40q %.40q, Python: %.40q %.40q", i, p.Key, p.Value, want[i][0], want[i][1])
				}
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	small, _ := golden(t, "small")
	mutate := func(off int, b ...byte) []byte {
		d := append([]byte(nil), small...)
		copy(d[off:], b)
		return d
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"sqlite", append([]byte("SQLite format 3\x00"), make([]byte, 4096)...)},
		{"btree magic", mutate(12, 0x62, 0x31, 0x05, 0x00)},
		{"version", mutate(16, 7)},
		{"page size", mutate(20, 0x00, 0x11)},
		{"encrypted", mutate(24, 1)},
		{"truncated", small[:len(small)-100]},
		{"bucket page type", mutate(4096+25, 7)},
		{"entry offset", mutate(4096+26, 0x01, 0x00)},
		{"item type", mutate(4096+0xff0, 9)},
		{"too many buckets", mutate(72, 0xff, 0xff)},
	}
	for _, tt := range tests {
		if _, err := Read(tt.data); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Read = %v, want ErrFormat", tt.name, err)
		}
	}
}

// FuzzRead feeds damaged files to the reader: an error or pairs, never a
// panic or a hang.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"small.db"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pairs, err := Read(data)
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		total := 0
		for _, p := range pairs {
			total += len(p.Key) + len(p.Value)
		}
		if total > 2*len(data)*len(data)+1024 {
			t.Fatalf("%d bytes of pairs from %d bytes of file", total, len(data))
		}
	})
}
