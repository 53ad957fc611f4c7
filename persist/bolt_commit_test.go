package persist

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestCommitStats checks the counters against writes whose grouping the
// test controls: one at a time, then a batch queued behind a transaction
// the test holds open.
func TestCommitStats(t *testing.T) {
	s := openBolt(t, filepath.Join(t.TempDir(), "ns.db"))
	defer s.Close()
	if got := s.CommitStats(); got != (CommitStats{}) || got.PerCommit() != 0 {
		t.Fatalf("fresh store: %+v (%.1f per commit), want zeros", got, got.PerCommit())
	}

	for i := range 3 {
		mustPut(t, s, Entry{Name: fmt.Sprint("one.", i), URI: "PYRO:x@h:1"})
	}
	if err := s.PutNew(Entry{Name: "one.0", URI: "PYRO:x@h:1"}); !errors.Is(err, ErrExists) {
		t.Fatalf("PutNew of an existing name: %v, want ErrExists", err)
	}
	// A refusal is answered from a transaction that commits without it.
	if got, want := s.CommitStats(), (CommitStats{Writes: 4, Commits: 4}); got != want {
		t.Fatalf("after 3 sequential puts and a refusal: %+v, want %+v", got, want)
	}

	// Hold the committer inside a transaction until 8 writes are queued:
	// they must all go into the next one.
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	blocked := make(chan error, 1)
	go func() {
		blocked <- s.write("hold", func(tx *bolt.Tx) error {
			once.Do(func() { close(entered) })
			<-release
			return nil
		})
	}()
	<-entered
	const queued = 8
	errs := make(chan error, queued)
	for i := range queued {
		go func() { errs <- s.Put(Entry{Name: fmt.Sprint("grouped.", i), URI: "PYRO:x@h:2"}) }()
	}
	for deadline := time.Now().Add(10 * time.Second); len(s.w.ops) < queued; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes queued", len(s.w.ops), queued)
		}
	}
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	for range queued {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got := s.CommitStats()
	if want := (CommitStats{Writes: 4 + 1 + queued, Commits: 4 + 2}); got != want {
		t.Fatalf("after the held transaction: %+v, want %+v", got, want)
	}
	if pc, want := got.PerCommit(), 13.0/6; pc != want {
		t.Errorf("PerCommit = %v, want 13/6 = %v", pc, want)
	}
}
