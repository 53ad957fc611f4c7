package nameserver

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/etcdtest"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// fakeShared is one node's handle on a memory store that several servers
// share, with an election the test decides: lead sends to the node's
// Campaign channel.
type fakeShared struct {
	*persist.Memory
	lead chan bool
	fail error // when set, every write fails with it
}

func (f *fakeShared) Campaign(ctx context.Context, election, candidate string) <-chan bool {
	out := make(chan bool)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case v := <-f.lead:
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

func (f *fakeShared) Put(e persist.Entry) error {
	if f.fail != nil {
		return f.fail
	}
	return f.Memory.Put(e)
}

// Two nodes on one shared store: the client names are shared, each node's
// Pyro.NameServer is its own and is never written to the store (where an
// entry of that name, say from a migrated file, stays hidden).
func TestSharedStoreKeepsOwnEntryOnNode(t *testing.T) {
	mem := persist.NewMemory()
	if err := mem.Put(persist.Entry{Name: NameServerName, URI: "PYRO:Pyro.NameServer@old:1"}); err != nil {
		t.Fatal(err)
	}
	a := startServer(t, Options{NoBroadcast: true, Store: &fakeShared{Memory: mem}})
	b := startServer(t, Options{NoBroadcast: true, Store: &fakeShared{Memory: mem}})
	if err := a.Registry().Register(persist.Entry{Name: "svc", URI: "PYRO:o@h:1"}, true); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Server{a, b} {
		e, ok, err := s.Registry().Lookup(NameServerName)
		if err != nil || !ok || e.URI != s.URI().String() {
			t.Errorf("%s: own entry %v %v %v", s.URI(), e, ok, err)
		}
		var listed []string
		s.Registry().Range("", func(e persist.Entry, _ bool) bool {
			listed = append(listed, e.Name+"="+e.URI)
			return true
		})
		want := []string{NameServerName + "=" + s.URI().String(), "svc=PYRO:o@h:1"}
		if !slices.Equal(listed, want) {
			t.Errorf("%s lists %q, want %q", s.URI(), listed, want)
		}
		if n, err := s.Registry().Count(); n != 2 || err != nil {
			t.Errorf("%s: count %d %v, want 2", s.URI(), n, err)
		}
		if err := s.Registry().Register(persist.Entry{Name: NameServerName, URI: "PYRO:x@y:1"}, true); !isNamingError(err, "name already registered: Pyro.NameServer") {
			t.Errorf("safe register of Pyro.NameServer: %v", err)
		}
	}
	// The store itself was never told about either node.
	if e, _, _ := mem.Get(NameServerName); e.URI != "PYRO:Pyro.NameServer@old:1" {
		t.Errorf("the shared store's Pyro.NameServer is %q", e.URI)
	}
	if gone, err := b.Registry().RemoveMatching("", nil); err != nil || !slices.Equal(gone, []string{"svc"}) {
		t.Errorf("RemoveMatching on B: %v %v", gone, err)
	}
	if _, ok, _ := a.Registry().Lookup(NameServerName); !ok {
		t.Error("A's own entry went with B's removal")
	}
}

// A write the store cannot carry out for want of its cluster reaches the
// client as NamingError('name server storage unavailable: ...').
func TestStorageUnavailableIsNamingError(t *testing.T) {
	// The server's own entry stays on the node, so New writes nothing.
	f := &fakeShared{Memory: persist.NewMemory(),
		fail: fmt.Errorf("etcd put %q: %w: %v", "svc", persist.ErrUnavailable, context.DeadlineExceeded)}
	s := startServer(t, Options{NoBroadcast: true, Store: f})
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	_, err := tc.call(NameServerName, "register", "svc", "PYRO:o@h:1")
	x, ok := err.(*wire.Exception)
	if !ok || x.Class != wire.ClassNamingError || !strings.HasPrefix(x.Message, "name server storage unavailable: ") ||
		!strings.Contains(x.Message, "deadline exceeded") {
		t.Errorf("register while unavailable: %#v", err)
	}
	// Lookups go on.
	if v, err := tc.call(NameServerName, "lookup", NameServerName); err != nil || v == nil {
		t.Errorf("lookup while unavailable: %v %v", v, err)
	}
}

// On a shared store autoclean sweeps only on the node that leads the
// election, and stops when it loses the lead.
func TestSharedAutocleanOnLeaderOnly(t *testing.T) {
	mem := persist.NewMemory()
	dead := deadAddr(t)
	logA, logB := &logRecorder{}, &logRecorder{}
	fa, fb := &fakeShared{Memory: mem, lead: make(chan bool)}, &fakeShared{Memory: mem, lead: make(chan bool)}
	a := startServer(t, fastAutoClean(logA, fa))
	b := startServer(t, fastAutoClean(logB, fb))
	if a.AutocleanLeader() || b.AutocleanLeader() {
		t.Fatal("a node leads before any election")
	}
	fb.lead <- true
	waitFor(t, "B to lead", 5*time.Second, b.AutocleanLeader)
	if err := a.Registry().Register(persist.Entry{Name: "dead", URI: "PYRO:o@" + dead}, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B's autoclean to remove the dead name", 10*time.Second, func() bool {
		_, ok, _ := mem.Get("dead")
		return !ok
	})
	if got := logA.matching("autoclean: unregistered"); len(got) != 0 {
		t.Errorf("A swept without leading: %q", got)
	}
	if got := logB.matching("autoclean: unregistered", "dead"); len(got) != 1 {
		t.Errorf("B's removals: %q", got)
	}
	fb.lead <- false
	waitFor(t, "B to step down", 5*time.Second, func() bool { return !b.AutocleanLeader() })
	if err := a.Registry().Register(persist.Entry{Name: "dead2", URI: "PYRO:o@" + dead}, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // three unreachable periods: nobody leads, nobody sweeps
	if _, ok, _ := mem.Get("dead2"); !ok {
		t.Error("dead2 removed while no node led")
	}
}

// With a real etcd cluster, exactly one of two nodes leads autoclean, and
// when it closes the other takes over at once (the leader resigns).
func TestEtcdAutocleanElection(t *testing.T) {
	etcdtest.Require(t)
	ec := etcdtest.Start(t, 1)
	open := func() *persist.Etcd {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		st, err := persist.OpenEtcd(ctx, persist.EtcdOptions{Endpoints: ec.Endpoints(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	var servers []*Server
	var closers []func()
	for range 2 {
		opts := Options{Host: "127.0.0.1", NoBroadcast: true, Store: open(), AutoClean: 3 * time.Second}
		s, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); s.Serve(ctx) }()
		servers = append(servers, s)
		closers = append(closers, func() { cancel(); s.Close(); wg.Wait() })
		t.Cleanup(closers[len(closers)-1])
	}
	leaders := func() (n int, who int) {
		for i, s := range servers {
			if s.AutocleanLeader() {
				n, who = n+1, i
			}
		}
		return n, who
	}
	waitFor(t, "a leader", 10*time.Second, func() bool { n, _ := leaders(); return n == 1 })
	time.Sleep(300 * time.Millisecond)
	n, who := leaders()
	if n != 1 {
		t.Fatalf("%d leaders", n)
	}
	start := time.Now()
	closers[who]()
	other := servers[1-who]
	waitFor(t, "the other node to lead", 10*time.Second, other.AutocleanLeader)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took over after %v; the leader should have resigned", d)
	}
}
