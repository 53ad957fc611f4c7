package persist

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// caughtUp waits for s's watch to deliver everything committed in the
// cluster so far and returns that revision.
func caughtUp(t *testing.T, s *Etcd) int64 {
	t.Helper()
	resp, err := s.cli.Get(context.Background(), s.key("none"))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "watch past the writes", func() bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return s.index.rev >= resp.Header.Revision
	})
	return resp.Header.Revision
}

// testEtcdLateOwnWrites: a write's own application to the index can come
// late (its goroutine descheduled between etcd's answer and the index
// lock), after the watch has delivered that write and later ones. Such a
// late application, replayed here once the watch is past, changes nothing:
// a put does not bring back a name deleted after it nor undo a newer
// version, a delete does not remove a name registered after it.
func testEtcdLateOwnWrites(t *testing.T, env *etcdEnv) {
	s := env.open(t, env.prefix())
	index := func(name string) *etcdEntry {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return s.index.get(name)
	}

	if err := s.PutNew(Entry{Name: "deleted", URI: "u"}); err != nil {
		t.Fatal(err)
	}
	stale := *index("deleted")
	if _, err := s.Delete("deleted"); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, s)
	s.applyPut(&stale)
	wantMissing(t, s, "deleted")

	if err := s.Put(Entry{Name: "changed", URI: "u", Metadata: []string{"old"}}); err != nil {
		t.Fatal(err)
	}
	stale = *index("changed")
	if err := s.SetMetadata("changed", []string{"new"}); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, s)
	s.applyPut(&stale)
	wantEntry(t, s, Entry{Name: "changed", URI: "u", Metadata: []string{"new"}})

	if err := s.Put(Entry{Name: "again", URI: "u"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete("again"); err != nil {
		t.Fatal(err)
	}
	absent := caughtUp(t, s)
	if err := s.Put(Entry{Name: "again", URI: "u2"}); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, s)
	s.applyRemove([]string{"again"}, absent)
	wantEntry(t, s, Entry{Name: "again", URI: "u2"})
	wantCount(t, s, 2)
}

// testEtcdConcurrentOwnWrites: writers on one store race each other on a
// few names with every kind of write; once they have all returned, the
// store's index is exactly what etcd holds (each name's last write was this
// store's own and is applied when it returns), and it stays so once the
// watch has delivered all of them (no late event or tombstone changes it).
func testEtcdConcurrentOwnWrites(t *testing.T, env *etcdEnv) {
	s := env.open(t, env.prefix())
	const writers, ops, names = 4, 60, 6
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), rand.Uint64()))
			for i := range ops {
				name := fmt.Sprintf("c.%d", rng.IntN(names))
				uri := fmt.Sprintf("u.%d.%d", w, i)
				var err error
				switch rng.IntN(6) {
				case 0:
					err = s.Put(Entry{Name: name, URI: uri})
				case 1:
					err = s.PutNew(Entry{Name: name, URI: uri})
				case 2:
					err = s.SetMetadata(name, []string{uri})
				case 3:
					_, err = s.Delete(name)
				case 4:
					_, err = s.DeleteMatching("c.", func(n string) bool { return n == name || strings.HasSuffix(n, "1") })
				case 5:
					_, err = s.DeleteMatching(name, nil)
				}
				if err != nil && !errors.Is(err, ErrExists) && !errors.Is(err, ErrNotFound) && !errors.Is(err, errContention) {
					errs <- fmt.Errorf("writer %d op %d on %s: %w", w, i, name, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	compare := func(when string) {
		t.Helper()
		resp, err := s.cli.Get(context.Background(), s.key("c."), clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		var want []Entry
		for _, kv := range resp.Kvs {
			e := s.decode(kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision)
			if e == nil {
				t.Fatalf("undecodable value at %s", kv.Key)
			}
			want = append(want, e.entry())
		}
		got := entries(t, s)
		slices.SortFunc(got, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
		if !sameEntries(got, want) {
			t.Fatalf("%s: the index holds\n%v\netcd holds\n%v", when, got, want)
		}
	}
	compare("when the writes returned")
	caughtUp(t, s)
	compare("once the watch delivered them")
}
