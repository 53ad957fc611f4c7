package persist

import (
	"os"
	"path/filepath"
	"testing"
)

var (
	sql1MDir  string
	sql1MPath string
)

// sqlStore1M writes a million-row Pyro4 sqlite file once per process, in
// the import's large transactions.
func sqlStore1M(b *testing.B) string {
	if sql1MPath != "" {
		return sql1MPath
	}
	dir, err := os.MkdirTemp("", "persist-bench-sql-")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "ns.sqlite")
	s, err := OpenSQL(path)
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]Entry, 0, benchGroups*benchMembers)
	for _, i := range shuffled1M() {
		entries = append(entries, Entry{Name: benchName(i/benchMembers, i%benchMembers), URI: benchURI})
	}
	if err := s.importEntries(entries, func(int) {}); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	sql1MDir, sql1MPath = dir, path
	return path
}

// BenchmarkSQLOpen1M is the start-up cost of a name server on a Pyro4
// sqlite file of a million registrations: the lock, the schema check and
// loading every row into the in-memory index.
func BenchmarkSQLOpen1M(b *testing.B) {
	path := sqlStore1M(b)
	fi, _ := os.Stat(path)
	b.ResetTimer()
	for b.Loop() {
		s, err := OpenSQL(path)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := s.Count(); err != nil || n != benchGroups*benchMembers {
			b.Fatalf("Count() = %d, %v", n, err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
}

// BenchmarkSQLPut measures durable writes: each Put is one transaction,
// committed and synced before it returns, as in Pyro4.
func BenchmarkSQLPut(b *testing.B) {
	benchPut(b, func(b *testing.B) Store {
		s, err := OpenSQL(filepath.Join(b.TempDir(), "ns.sqlite"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}, nil)
}
