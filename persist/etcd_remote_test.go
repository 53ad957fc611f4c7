package persist

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// testEtcdRemoteChanges: a store reports what other nodes change, as the
// watch brings it in: a new name, a metadata change of a known one (same
// URI), a new URI, and a removal, in that order.
func testEtcdRemoteChanges(t *testing.T, env *etcdEnv) {
	p := env.prefix()
	var mu sync.Mutex
	var got []RemoteChange
	env.open(t, p, func(o *EtcdOptions) {
		o.OnRemoteChange = func(c RemoteChange) {
			mu.Lock()
			got = append(got, c)
			mu.Unlock()
		}
	})
	other := env.open(t, p)
	steps := []func() error{
		func() error { return other.PutNew(Entry{Name: "r.1", URI: "PYRO:r@h:1"}) },
		func() error { return other.SetMetadata("r.1", []string{"tag"}) },
		func() error { return other.Put(Entry{Name: "r.1", URI: "PYRO:r@h:2", Metadata: []string{"tag"}}) },
		func() error { _, err := other.Delete("r.1"); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		// One step at a time, so each arrives as a change of its own.
		eventually(t, 10*time.Second, "the change reported", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) == i+1
		})
	}
	want := []RemoteChange{
		{Entry: Entry{Name: "r.1", URI: "PYRO:r@h:1"}},
		{Entry: Entry{Name: "r.1", URI: "PYRO:r@h:1", Metadata: []string{"tag"}}, Existed: true, PrevURI: "PYRO:r@h:1"},
		{Entry: Entry{Name: "r.1", URI: "PYRO:r@h:2", Metadata: []string{"tag"}}, Existed: true, PrevURI: "PYRO:r@h:1"},
		{Entry: Entry{Name: "r.1", URI: "PYRO:r@h:2", Metadata: []string{"tag"}}, Removed: true, Existed: true, PrevURI: "PYRO:r@h:2"},
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.EqualFunc(got, want, func(a, b RemoteChange) bool {
		return a.Removed == b.Removed && a.Existed == b.Existed && a.PrevURI == b.PrevURI &&
			a.Entry.Name == b.Entry.Name && a.Entry.URI == b.Entry.URI && slices.Equal(a.Entry.Metadata, b.Entry.Metadata)
	}) {
		t.Fatalf("remote changes:\n%+v\nwant\n%+v", got, want)
	}
}
