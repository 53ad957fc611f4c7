package persist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/etcdtest"
)

// etcdEnv is one real etcd cluster shared by the subtests of a test; each
// store it opens gets a name space (key prefix) of its own unless told
// otherwise, so subtests do not see each other's names.
type etcdEnv struct {
	c    *etcdtest.Cluster
	next atomic.Int64
}

func (env *etcdEnv) prefix() string { return fmt.Sprintf("/test/%d/", env.next.Add(1)) }

// open opens a store on the whole cluster with short timeouts; the test
// closes it.
func (env *etcdEnv) open(t testing.TB, prefix string, opt ...func(*EtcdOptions)) *Etcd {
	t.Helper()
	o := EtcdOptions{
		Endpoints:      env.c.Endpoints(),
		Prefix:         prefix,
		RequestTimeout: 2 * time.Second,
		CheckInterval:  100 * time.Millisecond,
		ElectionTTL:    2 * time.Second,
	}
	for _, f := range opt {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := OpenEtcd(ctx, o)
	if err != nil {
		t.Fatalf("OpenEtcd: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// logTo sends a store's log to buf.
func logTo(buf *syncBuffer) func(*EtcdOptions) {
	return func(o *EtcdOptions) { o.Logger = slog.New(slog.NewTextHandler(buf, nil)) }
}

func logger(buf *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// eventually polls cond every 10 ms for at most d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// entries lists a store's whole name space, in its order.
func entries(t testing.TB, s Store) []Entry {
	t.Helper()
	var out []Entry
	if err := s.Range("", func(e Entry) bool {
		out = append(out, Entry{Name: e.Name, URI: e.URI, Metadata: slices.Clone(e.Metadata)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameEntries(a, b []Entry) bool {
	return slices.EqualFunc(a, b, func(x, y Entry) bool {
		return x.Name == y.Name && x.URI == y.URI && slices.Equal(x.Metadata, y.Metadata)
	})
}

// etcdSuiteSkips are the store suite's cases that assert name order, which
// an etcd store does not have: it lists in registration order (see Order
// below). Once the suite asserts registration order for every store, the
// etcd store runs all of it.
var etcdSuiteSkips = map[string]bool{"Range": true, "Concurrent": true}

// TestEtcd runs everything that needs a cluster against one cluster. The
// failure cases kill members, so they come last.
func TestEtcd(t *testing.T) {
	env := &etcdEnv{c: etcdtest.Start(t, 3)}
	t.Run("Suite", func(t *testing.T) {
		for _, c := range suite {
			if etcdSuiteSkips[c.name] {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				c.test(t, env.open(t, env.prefix()))
			})
		}
	})
	for _, c := range []struct {
		name string
		test func(t *testing.T, env *etcdEnv)
	}{
		{"Order", testEtcdOrder},
		{"TwoStores", testEtcdTwoStores},
		{"RemoteChanges", testEtcdRemoteChanges},
		{"PutNewAcrossStores", testEtcdPutNewAcrossStores},
		{"DeleteMatchingRuns", testEtcdDeleteMatchingRuns},
		{"OwnWritesVisible", testEtcdOwnWritesVisible},
		{"LateOwnWrites", testEtcdLateOwnWrites},
		{"ConcurrentOwnWrites", testEtcdConcurrentOwnWrites},
		{"Prefixes", testEtcdPrefixes},
		{"Election", testEtcdElection},
		{"Failures", testEtcdFailures},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, env) })
	}
}

// testEtcdOrder: Range lists in registration order across the cluster, as
// Pyro4's dict does: a re-register or metadata change keeps the place, a
// remove and register again goes last; both stores agree.
func testEtcdOrder(t *testing.T, env *etcdEnv) {
	p := env.prefix()
	a, b := env.open(t, p), env.open(t, p)
	steps := []struct {
		s    Store
		do   func(Store) error
		want []string
	}{
		{a, func(s Store) error { return s.Put(Entry{Name: "c.1", URI: "u"}) }, []string{"c.1"}},
		{b, func(s Store) error { return s.PutNew(Entry{Name: "a.1", URI: "u"}) }, []string{"c.1", "a.1"}},
		{a, func(s Store) error { return s.Put(Entry{Name: "b.1", URI: "u"}) }, []string{"c.1", "a.1", "b.1"}},
		{b, func(s Store) error { return s.Put(Entry{Name: "a.2", URI: "u"}) }, []string{"c.1", "a.1", "b.1", "a.2"}},
		{a, func(s Store) error { return s.Put(Entry{Name: "c.1", URI: "u2"}) }, []string{"c.1", "a.1", "b.1", "a.2"}},
		{b, func(s Store) error { return s.SetMetadata("a.1", []string{"m"}) }, []string{"c.1", "a.1", "b.1", "a.2"}},
		{a, func(s Store) error { _, err := s.Delete("a.1"); return err }, []string{"c.1", "b.1", "a.2"}},
		{b, func(s Store) error { return s.Put(Entry{Name: "a.1", URI: "u"}) }, []string{"c.1", "b.1", "a.2", "a.1"}},
	}
	for i, st := range steps {
		if err := st.do(st.s); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, s := range []Store{a, b} {
			eventually(t, 10*time.Second, fmt.Sprintf("step %d order", i), func() bool {
				return slices.Equal(rangeNames(t, s, ""), st.want)
			})
		}
	}
	// A prefix lists its names in the same order.
	for _, s := range []Store{a, b} {
		if got, want := rangeNames(t, s, "a."), []string{"a.2", "a.1"}; !slices.Equal(got, want) {
			t.Fatalf("Range(a.) = %q, want %q", got, want)
		}
	}
}

// testEtcdTwoStores: every kind of write through one store is seen by the
// other, metadata included.
func testEtcdTwoStores(t *testing.T, env *etcdEnv) {
	p := env.prefix()
	a, b := env.open(t, p), env.open(t, p)
	steps := []struct {
		name string
		on   Store
		do   func(Store) error
	}{
		{"put", a, func(s Store) error {
			return s.Put(Entry{Name: "x.1", URI: "PYRO:x1@h:1", Metadata: []string{"b", "a"}})
		}},
		{"putnew", b, func(s Store) error { return s.PutNew(Entry{Name: "x.2", URI: "PYRO:x2@h:1"}) }},
		{"setmeta", b, func(s Store) error { return s.SetMetadata("x.1", []string{"z"}) }},
		{"replace", a, func(s Store) error { return s.Put(Entry{Name: "x.2", URI: "PYRO:x2@h:2"}) }},
		{"delete", b, func(s Store) error { _, err := s.Delete("x.1"); return err }},
		{"more", a, func(s Store) error {
			for i := range 5 {
				if err := s.Put(Entry{Name: fmt.Sprintf("y.%d", i), URI: "u"}); err != nil {
					return err
				}
			}
			return nil
		}},
		{"deletematching", b, func(s Store) error {
			_, err := s.DeleteMatching("y.", func(n string) bool { return n != "y.3" })
			return err
		}},
	}
	for _, st := range steps {
		if err := st.do(st.on); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want := entries(t, st.on)
		for _, s := range []Store{a, b} {
			eventually(t, 10*time.Second, st.name+" seen by both", func() bool { return sameEntries(entries(t, s), want) })
		}
	}
	want := []Entry{{Name: "x.2", URI: "PYRO:x2@h:2"}, {Name: "y.3", URI: "u"}}
	if got := entries(t, a); !sameEntries(got, want) {
		t.Fatalf("entries = %#v, want %#v", got, want)
	}
}

// testEtcdPutNewAcrossStores: 20 concurrent claims of one name through two
// stores have exactly one winner, and both stores agree on it.
func testEtcdPutNewAcrossStores(t *testing.T, env *etcdEnv) {
	p := env.prefix()
	stores := []Store{env.open(t, p), env.open(t, p)}
	for round := range 3 {
		name := fmt.Sprintf("contested.%d", round)
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = stores[i%2].PutNew(Entry{Name: name, URI: fmt.Sprintf("PYRO:o@h:%d", i)})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("%s: PutNew succeeded for both %d and %d", name, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, ErrExists):
				t.Fatalf("%s: PutNew %d: %v", name, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("%s: no PutNew succeeded", name)
		}
		for _, s := range stores {
			eventually(t, 10*time.Second, "winner seen", func() bool {
				e, ok, _ := s.Get(name)
				return ok && e.URI == fmt.Sprintf("PYRO:o@h:%d", winner)
			})
		}
	}
}

// testEtcdDeleteMatchingRuns: a removal by match whose names are not
// adjacent (more runs than one transaction holds) removes exactly the
// matching names and reports them, while another store keeps registering
// names that do not match; both stores end up agreeing.
func testEtcdDeleteMatchingRuns(t *testing.T, env *etcdEnv) {
	p := env.prefix()
	a, b := env.open(t, p), env.open(t, p)
	const n = 400 // every other name matches: 200 runs of one key
	var want []string
	for i := range n {
		name := fmt.Sprintf("r.%04d", i)
		if err := a.Put(Entry{Name: name, URI: "u"}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			want = append(want, name)
		}
	}
	odd := func(name string) bool {
		var i int
		_, err := fmt.Sscanf(name, "r.%04d", &i)
		return err == nil && !strings.HasPrefix(name, "r.new") && i%2 == 0
	}
	stop := make(chan struct{})
	var added atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := b.Put(Entry{Name: fmt.Sprintf("r.new.%d", i), URI: "u"}); err != nil {
				t.Error(err)
				return
			}
			added.Add(1)
		}
	})
	removed, err := a.DeleteMatching("r.", odd)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, want) {
		t.Fatalf("removed %d names (%q...), want the %d even ones", len(removed), removed[:min(3, len(removed))], len(want))
	}
	wantLeft := n - len(want) + int(added.Load())
	for _, s := range []Store{a, b} {
		eventually(t, 10*time.Second, "count after removal", func() bool {
			c, _ := s.Count()
			return c == wantLeft
		})
		for _, name := range want[:10] {
			wantMissing(t, s, name)
		}
	}
	// Prefix removal without a match reports every name it removed.
	all, err := b.DeleteMatching("r.", nil)
	if err != nil || len(all) != wantLeft || !slices.IsSorted(all) {
		t.Fatalf("DeleteMatching(r., nil) = %d names (sorted %v), %v; want %d", len(all), slices.IsSorted(all), err, wantLeft)
	}
	wantCount(t, b, 0)
}

// testEtcdOwnWritesVisible: a store sees its own write when the write
// returns, even when its watch has not yet delivered an earlier write of
// the same name by another store (which must not come back later).
func testEtcdOwnWritesVisible(t *testing.T, env *etcdEnv) {
	p := env.prefix()
	a, b := env.open(t, p), env.open(t, p)
	for i := range 50 {
		name := fmt.Sprintf("v.%d", i)
		if err := b.Put(Entry{Name: name, URI: "from-b"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Delete(name); err != nil {
			t.Fatal(err)
		}
		wantMissing(t, a, name)
		if err := a.Put(Entry{Name: name + ".a", URI: "from-a"}); err != nil {
			t.Fatal(err)
		}
		wantEntry(t, a, Entry{Name: name + ".a", URI: "from-a"})
		if err := a.SetMetadata(name+".a", []string{"m"}); err != nil {
			t.Fatal(err)
		}
		wantEntry(t, a, Entry{Name: name + ".a", URI: "from-a", Metadata: []string{"m"}})
	}
	// Once a's watch has passed b's last write, nothing b put and a
	// removed has come back.
	eventually(t, 10*time.Second, "a's index current", func() bool { return a.Status().Revision >= b.Status().Revision })
	for i := range 50 {
		wantMissing(t, a, fmt.Sprintf("v.%d", i))
	}
	wantCount(t, a, 50)
}

// testEtcdPrefixes: name spaces with different prefixes on one cluster do
// not see each other, and elections do not appear among the names.
func testEtcdPrefixes(t *testing.T, env *etcdEnv) {
	p := env.prefix()
	a, b := env.open(t, p+"one/"), env.open(t, p+"two/")
	if err := a.Put(Entry{Name: "n", URI: "one"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(Entry{Name: "n", URI: "two"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := a.Campaign(ctx, "autoclean", "node-a")
	if !<-ch {
		t.Fatal("a lone candidate did not lead")
	}
	for _, c := range []struct {
		s   *Etcd
		uri string
	}{{a, "one"}, {b, "two"}} {
		if got := entries(t, c.s); !sameEntries(got, []Entry{{Name: "n", URI: c.uri}}) {
			t.Fatalf("entries = %#v, want n -> %s only", got, c.uri)
		}
	}
	// Writes in b's name space move the cluster's revision past everything
	// a's watch delivers; a learns from a progress notification that its
	// index is still current.
	written := time.Now()
	for i := range 5 {
		if err := b.Put(Entry{Name: fmt.Sprint(i), URI: "two"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "a current after b's writes", func() bool {
		st := a.Status()
		return st.Err == nil && st.Synced.After(written) && st.Revision >= b.Status().Revision
	})
}

// testEtcdElection: of two candidates one leads; when it resigns (its
// context ends) the other takes over.
func testEtcdElection(t *testing.T, env *etcdEnv) {
	p := env.prefix()
	a, b := env.open(t, p), env.open(t, p)
	actx, acancel := context.WithCancel(context.Background())
	defer acancel()
	bctx, bcancel := context.WithCancel(context.Background())
	defer bcancel()
	ach := a.Campaign(actx, "autoclean", "node-a")
	select {
	case lead := <-ach:
		if !lead {
			t.Fatal("a: first report is not leadership")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a lone candidate did not lead within 10 s")
	}
	bch := b.Campaign(bctx, "autoclean", "node-b")
	select {
	case lead := <-bch:
		t.Fatalf("b reported %v while a leads", lead)
	case <-time.After(300 * time.Millisecond):
	}
	if who, ok, err := b.Leader(context.Background(), "autoclean"); err != nil || !ok || who != "node-a" {
		t.Fatalf("Leader = %q, %v, %v; want node-a", who, ok, err)
	}
	acancel()
	for range ach {
	}
	select {
	case lead := <-bch:
		if !lead {
			t.Fatal("b: first report is not leadership")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b did not take over within 10 s of a resigning")
	}
	if who, _, _ := a.Leader(context.Background(), "autoclean"); who != "node-b" {
		t.Fatalf("Leader = %q, want node-b", who)
	}
}
