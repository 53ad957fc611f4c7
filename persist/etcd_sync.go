package persist

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// EtcdStatus tells how current an Etcd store's local index is.
type EtcdStatus struct {
	// Synced is when the index last held every change committed in the
	// cluster: a quorum read found no revision beyond what the watch had
	// delivered. Reads while etcd is unreachable come from an index this old.
	Synced time.Time
	// Revision is the etcd revision the watch has delivered all changes up to.
	Revision int64
	// Err is why the last check failed (etcd unreachable, no quorum, the
	// watch behind); nil when it passed.
	Err error
	// Resyncs counts the full reloads after the watch fell behind a
	// compaction of etcd's history.
	Resyncs int
}

// Age is how long ago the index was last known to be current.
func (st EtcdStatus) Age() time.Duration { return time.Since(st.Synced) }

// etcdHealth is the state behind Status, with what the logger was told.
type etcdHealth struct {
	mu       sync.Mutex
	st       EtcdStatus
	reported time.Time // last warning about a stale index; zero while fresh
}

// staleReportEvery spaces the warnings while the index stays stale.
const staleReportEvery = 30 * time.Second

func (h *etcdHealth) synced(at time.Time, rev int64) (recovered bool, was time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	recovered, was = !h.reported.IsZero(), h.st.Synced
	if at.After(h.st.Synced) {
		h.st.Synced = at
	}
	h.st.Revision, h.st.Err, h.reported = rev, nil, time.Time{}
	return recovered, was
}

// failed records a failed check and reports whether to warn now.
func (h *etcdHealth) failed(err error, now time.Time) (warn bool, st EtcdStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.Err = err
	if h.reported.IsZero() || now.Sub(h.reported) >= staleReportEvery {
		h.reported, warn = now, true
	}
	return warn, h.st
}

// Status reports how current the local index is.
func (s *Etcd) Status() EtcdStatus {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.st
}

// load reads the whole name space at one revision, in pages.
func (s *Etcd) load(ctx context.Context) (*etcdIndex, error) {
	idx := newEtcdIndex()
	key, end := s.names, clientv3.GetPrefixRangeEnd(s.names)
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(etcdPageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		rctx, cancel := context.WithTimeout(ctx, s.o.RequestTimeout)
		resp, err := s.cli.Get(clientv3.WithRequireLeader(rctx), key, opts...)
		cancel()
		if err != nil {
			return nil, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if e := s.decode(kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision); e != nil {
				idx.byName.ReplaceOrInsert(nameItem{name: e.name, e: e})
				idx.byRev.ReplaceOrInsert(e)
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	idx.rev = rev
	return idx, nil
}

// follow keeps the index current: a watch from the revision after the
// index's, restarted when it ends (after a pause that grows while restarts
// fail, up to a second: a watch is cheap and the index is stale meanwhile),
// and a full reload when etcd has compacted the revisions the watch would
// need.
func (s *Etcd) follow() {
	defer s.wg.Done()
	const first, most = 50 * time.Millisecond, time.Second
	delay := first
	for s.ctx.Err() == nil {
		delivered, err := s.watch()
		if s.ctx.Err() != nil {
			return
		}
		if delivered {
			delay = first
		}
		if errors.Is(err, rpctypes.ErrCompacted) {
			s.log.Warn("etcd history compacted past the index; reloading the name space", "revision", s.Status().Revision)
			if err = s.resync(); err == nil {
				delay = first
				continue
			}
		}
		// The first failure is news; the ones that follow while etcd stays
		// away are not (the freshness check reports the outage).
		level := slog.LevelDebug
		if delay == first {
			level = slog.LevelWarn
		}
		s.log.Log(s.ctx, level, "etcd watch ended; restarting", "err", err, "retry_in", delay)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, most)
	}
}

// watch follows the name space until the watch fails; delivered tells
// whether it got as far as delivering anything.
func (s *Etcd) watch() (delivered bool, err error) {
	s.mu.RLock()
	from := s.index.rev + 1
	s.mu.RUnlock()
	// Requiring a leader makes a member cut off from the others end the
	// watch, which then resumes through another member.
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(s.ctx))
	defer cancel()
	s.watchCtx.Store(&ctx)
	for resp := range s.cli.Watch(ctx, s.names, clientv3.WithPrefix(), clientv3.WithRev(from)) {
		if err := resp.Err(); err != nil {
			return delivered, err
		}
		s.apply(&resp)
		delivered = true
	}
	return delivered, errors.New("watch closed")
}

// apply installs one watch response: all events of a revision arrive in
// one response and are installed under one lock, so a reader sees a
// transaction whole or not at all.
func (s *Etcd) apply(resp *clientv3.WatchResponse) {
	var rev int64
	switch n := len(resp.Events); {
	case n > 0:
		rev = resp.Events[n-1].Kv.ModRevision
	case resp.IsProgressNotify():
		// Sent only to a watcher that has been sent everything up to it.
		rev = resp.Header.Revision
	}
	var changes []RemoteChange
	report := s.o.OnRemoteChange != nil
	s.mu.Lock()
	for _, ev := range resp.Events {
		kv := ev.Kv
		switch ev.Type {
		case mvccpb.PUT:
			if e := s.decode(kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision); e != nil {
				// An own write is in the index before its event comes,
				// so what the watch installs is (nearly always) another
				// node's: its writer reported its own.
				if ok, old := s.index.put(e, false); ok && report {
					changes = append(changes, RemoteChange{Entry: e.entry(), Existed: old != nil, PrevURI: uriOf(old)})
				}
			}
		case mvccpb.DELETE:
			if old := s.index.remove(s.name(kv.Key), kv.ModRevision, false); old != nil && report {
				changes = append(changes, RemoteChange{Entry: old.entry(), Removed: true, Existed: true, PrevURI: old.uri})
			}
		}
	}
	var caught chan struct{}
	if rev > s.index.rev {
		s.index.advance(rev)
		caught, s.caught = s.caught, make(chan struct{})
	}
	s.mu.Unlock()
	if caught != nil {
		close(caught)
	}
	for _, c := range changes {
		s.o.OnRemoteChange(c)
	}
}

func uriOf(e *etcdEntry) string {
	if e == nil {
		return ""
	}
	return e.uri
}

// resync replaces the index by a fresh load, keeping what the old one knew
// beyond the load's revision (this store's own writes).
func (s *Etcd) resync() error {
	idx, err := s.load(s.ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	idx.carry(s.index)
	s.index = idx
	caught := s.caught
	s.caught = make(chan struct{})
	s.mu.Unlock()
	close(caught)
	s.health.mu.Lock()
	s.health.st.Resyncs++
	s.health.mu.Unlock()
	s.log.Info("etcd name space reloaded", "revision", idx.rev)
	return nil
}

// check confirms, every CheckInterval, that the index is current: a quorum
// read gives the cluster's revision R, and the index is current once the
// watch has delivered R. It logs the index going stale (and, every
// staleReportEvery, its age) and fresh again.
func (s *Etcd) check() {
	defer s.wg.Done()
	tick := time.NewTicker(s.o.CheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		start := time.Now()
		rev, err := s.current()
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			if warn, st := s.health.failed(err, time.Now()); warn {
				s.log.Warn("etcd unavailable; lookups are served from the local index", "synced", st.Synced, "index_age", st.Age().Round(time.Millisecond), "err", err)
			}
			continue
		}
		if recovered, was := s.health.synced(start, rev); recovered {
			s.log.Info("etcd available again; the local index is current", "revision", rev, "stale_since", was)
		}
	}
}

// current waits until the index holds every change committed before now
// and returns its revision.
func (s *Etcd) current() (int64, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.o.RequestTimeout)
	defer cancel()
	resp, err := s.cli.Get(clientv3.WithRequireLeader(ctx), s.o.Prefix+etcdElectDir, clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	want := resp.Header.Revision
	for asked := false; ; {
		s.mu.RLock()
		rev, caught := s.index.rev, s.caught
		s.mu.RUnlock()
		if rev >= want {
			return rev, nil
		}
		// Revisions of other keys (other name spaces, elections) bring no
		// event: a progress notification tells how far the watch is.
		if !asked {
			if wctx := s.watchCtx.Load(); wctx != nil {
				s.cli.RequestProgress(*wctx)
			}
			asked = true
		}
		select {
		case <-caught:
		case <-ctx.Done():
			return 0, errors.New("the watch is behind the cluster")
		}
	}
}
