package persist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// testEtcdFailures takes the cluster through the failures a name space
// must survive, in order: one member down (writes go on), quorum lost
// (reads from the index, writes fail in bounded time, a new store waits),
// members back (writes resume, every store catches up), and a store whose
// watch fell behind a compaction (it reloads).
func testEtcdFailures(t *testing.T, env *etcdEnv) {
	c := env.c
	p := env.prefix()
	var alog syncBuffer
	a, b := env.open(t, p, logTo(&alog)), env.open(t, p)
	for i := range 10 {
		if err := a.Put(Entry{Name: fmt.Sprintf("f.%d", i), URI: "u", Metadata: []string{"m"}}); err != nil {
			t.Fatal(err)
		}
	}

	// One member down: every kind of write still commits, once the others
	// have a leader (the killed member may have been it).
	c.Kill(0)
	afterElection(t, "Put with one member down", func() error { return a.Put(Entry{Name: "one-down", URI: "u"}) })
	if err := b.PutNew(Entry{Name: "one-down.new", URI: "u"}); err != nil {
		t.Fatalf("PutNew with one member down: %v", err)
	}
	if _, err := b.DeleteMatching("f.9", nil); err != nil {
		t.Fatalf("DeleteMatching with one member down: %v", err)
	}
	want := agree(t, env, p, "one member down", a, b)

	// Quorum lost: reads answer from the index; writes fail with
	// ErrUnavailable within a bound (RequestTimeout is 2 s here).
	c.Kill(1)
	for _, s := range []*Etcd{a, b} {
		if got := entries(t, s); !sameEntries(got, want) {
			t.Fatalf("entries without quorum = %#v, want %#v", got, want)
		}
		wantEntry(t, s, Entry{Name: "f.0", URI: "u", Metadata: []string{"m"}})
	}
	writes := map[string]func(Store) error{
		"Put":         func(s Store) error { return s.Put(Entry{Name: "lost", URI: "u"}) },
		"PutNew":      func(s Store) error { return s.PutNew(Entry{Name: "lost", URI: "u"}) },
		"SetMetadata": func(s Store) error { return s.SetMetadata("f.0", nil) },
		"Delete":      func(s Store) error { _, err := s.Delete("f.0"); return err },
		"DeleteMatching": func(s Store) error {
			_, err := s.DeleteMatching("f.", func(string) bool { return true })
			return err
		},
	}
	for name, w := range writes {
		start := time.Now()
		err := w(a)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s without quorum took %v", name, took)
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s without quorum: %v, want ErrUnavailable", name, err)
		}
	}
	eventually(t, 10*time.Second, "status reports the failure", func() bool { return a.Status().Err != nil })
	if age := a.Status().Age(); age < 100*time.Millisecond {
		t.Errorf("index age %v while etcd has no quorum", age)
	}
	if !strings.Contains(alog.String(), "etcd unavailable") {
		t.Errorf("no warning logged about etcd being unavailable:\n%s", alog.String())
	}
	// A store opened now waits for etcd, and says so.
	var clog syncBuffer
	opened := make(chan *Etcd, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := OpenEtcd(ctx, EtcdOptions{Endpoints: c.Endpoints(), Prefix: p, RequestTimeout: time.Second, Logger: logger(&clog)})
		if err != nil {
			t.Errorf("OpenEtcd while etcd comes back: %v", err)
		}
		opened <- s
	}()
	eventually(t, 10*time.Second, "the new store reports retrying", func() bool { return strings.Contains(clog.String(), "retrying") })

	// Members back: writes resume, every store catches up.
	c.Restart(0)
	c.Restart(1)
	if err := c.WaitHealthy(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	afterElection(t, "Put after the members came back", func() error { return a.Put(Entry{Name: "back", URI: "u"}) })
	// A write that failed with ErrUnavailable had an unknown outcome: a
	// member may have taken it into its log and the cluster may commit it
	// now. What every store must agree on is what etcd holds, as a store
	// opened now loads it.
	var cs *Etcd
	select {
	case cs = <-opened:
	case <-time.After(30 * time.Second):
		t.Fatal("the store opened during the outage did not open")
	}
	if cs == nil {
		t.FailNow()
	}
	defer cs.Close()
	want = agree(t, env, p, "members back", a, b, cs)
	for i, s := range []*Etcd{a, b, cs} {
		if !within(10*time.Second, func() bool { return s.Status().Err == nil }) {
			t.Fatalf("store %d: status %+v after the members came back\nlog of store 0:\n%s", i, s.Status(), alog.String())
		}
	}

	// A store whose watch is behind a compaction reloads the name space.
	d := env.open(t, p, func(o *EtcdOptions) { o.Endpoints = c.Endpoints()[2:] })
	c.Kill(2)
	afterElection(t, "Put with member 2 down", func() error { return a.Put(Entry{Name: "g.0", URI: "u"}) })
	for i := range 20 {
		if err := a.Put(Entry{Name: fmt.Sprintf("g.%d", i), URI: "u"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Delete("f.0"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetMetadata("f.1", []string{"after"}); err != nil {
		t.Fatal(err)
	}
	c.Compact(t)
	c.Restart(2)
	if err := c.WaitHealthy(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "d resynced", func() bool { return d.Status().Resyncs >= 1 })
	agree(t, env, p, "after the compaction", a, d)
	if _, ok, _ := d.Get("f.0"); ok {
		t.Fatal("d still has f.0, removed while its member was down")
	}
	if e, _, _ := d.Get("f.1"); !slices.Equal(e.Metadata, []string{"after"}) {
		t.Fatalf("d has f.1 = %#v, want the metadata set while its member was down", e)
	}
}

// agree waits until every store lists what etcd holds, as a store opened
// now loads it, and returns that.
func agree(t *testing.T, env *etcdEnv, prefix, when string, stores ...*Etcd) []Entry {
	t.Helper()
	want := entries(t, env.open(t, prefix))
	for i, s := range stores {
		if !within(10*time.Second, func() bool { return sameEntries(entries(t, s), want) }) {
			t.Fatalf("%s: store %d not caught up within 10 s: status %+v\nentries %v\nwant %v", when, i, s.Status(), entries(t, s), want)
		}
	}
	return want
}

// within polls cond every 10 ms for at most d and reports whether it held.
func within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// afterElection retries a write that fails with ErrUnavailable for up to
// 15 s: right after a member is killed or restarted the cluster may spend a
// few election timeouts without a leader.
func afterElection(t *testing.T, what string, write func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := write()
		if err == nil {
			return
		}
		if !errors.Is(err, ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %v (retrying)", what, err)
	}
}

// TestEtcdOpenUnreachable: opening a store on an etcd nobody serves retries,
// reports each try, and gives up when the context ends, with ErrUnavailable.
func TestEtcdOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	var log syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := OpenEtcd(ctx, EtcdOptions{Endpoints: []string{"http://" + addr}, DialTimeout: 200 * time.Millisecond, RequestTimeout: 300 * time.Millisecond, Logger: logger(&log)})
	if err == nil {
		s.Close()
		t.Fatal("OpenEtcd on a closed port succeeded")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("error %v does not wrap ErrUnavailable", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("gave up after %v, the context allowed 1.5 s", took)
	}
	if n := strings.Count(log.String(), "retrying"); n < 2 {
		t.Errorf("%d retries reported, want at least 2:\n%s", n, log.String())
	}
}
