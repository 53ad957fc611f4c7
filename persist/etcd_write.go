package persist

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// etcdError is a failure of etcd to carry out a request; it wraps
// ErrUnavailable and etcd's own error.
type etcdError struct {
	op, name string
	err      error
}

func (e *etcdError) Error() string {
	return fmt.Sprintf("etcd %s %q: %v", e.op, e.name, e.err)
}

func (e *etcdError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// errContention ends a compound write that kept losing its compare to
// concurrent writers of the same keys.
var errContention = errors.New("too many concurrent changes; try again")

// etcdConflictRounds bounds the read-compare-write rounds of one compound
// write (SetMetadata, DeleteMatching with a match).
const etcdConflictRounds = 16

// transient reports whether err is etcd saying "not now": no leader, a
// leader change, an unreachable member. Such a request is retried until
// the deadline; the cluster may be electing a leader.
func transient(err error) bool {
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return ee.Code() == codes.Unavailable
	}
	return status.Code(err) == codes.Unavailable
}

// do runs fn, one attempt at a write, until it succeeds, fails for a
// reason of the name space (ErrExists, ErrNotFound), fails for good, or
// the request deadline passes. The context requires a leader, so that a
// member cut off from the others refuses at once instead of waiting.
func (s *Etcd) do(op, name string, fn func(ctx context.Context) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.o.RequestTimeout)
	defer cancel()
	ctx = clientv3.WithRequireLeader(ctx)
	delay := 25 * time.Millisecond
	for {
		err := fn(ctx)
		switch {
		case err == nil, errors.Is(err, ErrExists), errors.Is(err, ErrNotFound):
			return err
		case s.closed.Load():
			return ErrClosed
		case errors.Is(err, errContention):
			return fmt.Errorf("etcd %s %q: %w", op, name, err)
		case !transient(err) || ctx.Err() != nil:
			return &etcdError{op: op, name: name, err: err}
		}
		select {
		case <-ctx.Done():
			return &etcdError{op: op, name: name, err: err}
		case <-time.After(delay):
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

func (s *Etcd) applyPut(e *etcdEntry) {
	s.mu.Lock()
	s.index.put(e, true)
	s.mu.Unlock()
}

func (s *Etcd) applyRemove(names []string, rev int64) {
	s.mu.Lock()
	for _, n := range names {
		s.index.remove(n, rev, true)
	}
	s.mu.Unlock()
}

// Put implements Store.
func (s *Etcd) Put(e Entry) error {
	if err := checkName(e.Name); err != nil {
		return err
	}
	md := NormalizeMetadata(e.Metadata)
	key, val := s.key(e.Name), string(encodeEtcdValue(e.URI, md))
	return s.do("register", e.Name, func(ctx context.Context) error {
		resp, err := s.cli.Put(ctx, key, val, clientv3.WithPrevKV())
		if err != nil {
			return err
		}
		rev := resp.Header.Revision
		create := rev
		if resp.PrevKv != nil {
			create = resp.PrevKv.CreateRevision
		}
		s.applyPut(&etcdEntry{name: e.Name, uri: e.URI, md: md, create: create, mod: rev})
		return nil
	})
}

// PutNew implements Store: one transaction that puts the key only if its
// create revision is 0 (absent), so of any number of concurrent PutNew of
// a name on any nodes exactly one succeeds.
func (s *Etcd) PutNew(e Entry) error {
	if err := checkName(e.Name); err != nil {
		return err
	}
	md := NormalizeMetadata(e.Metadata)
	key, val := s.key(e.Name), string(encodeEtcdValue(e.URI, md))
	uncertain := false
	return s.do("register", e.Name, func(ctx context.Context) error {
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, val)).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			// A request cut off by a leader change may have committed.
			uncertain = true
			return err
		}
		if resp.Succeeded {
			rev := resp.Header.Revision
			s.applyPut(&etcdEntry{name: e.Name, uri: e.URI, md: md, create: rev, mod: rev})
			return nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 1 {
			kv := kvs[0]
			if cur := s.decode(kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision); cur != nil {
				s.applyPut(cur)
			}
			// The name holds exactly this entry after an attempt whose
			// outcome was unknown: that attempt won.
			if uncertain && string(kv.Value) == val {
				return nil
			}
		}
		return ErrExists
	})
}

// SetMetadata implements Store: the entry's current version (from the
// index, else from etcd) is rewritten in a transaction that compares its
// mod revision, and read again when another write got there first.
func (s *Etcd) SetMetadata(name string, metadata []string) error {
	md := NormalizeMetadata(metadata)
	key := s.key(name)
	var cur *etcdEntry
	s.mu.RLock()
	if !s.closed.Load() {
		cur = s.index.get(name)
	}
	s.mu.RUnlock()
	return s.do("set metadata of", name, func(ctx context.Context) error {
		for range etcdConflictRounds {
			if cur == nil {
				resp, err := s.cli.Get(ctx, key)
				if err != nil {
					return err
				}
				if len(resp.Kvs) == 0 {
					s.applyRemove([]string{name}, resp.Header.Revision)
					return ErrNotFound
				}
				kv := resp.Kvs[0]
				if cur = s.decode(kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision); cur == nil {
					return fmt.Errorf("%w: value of %q", errEtcdValue, key)
				}
			}
			resp, err := s.cli.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", cur.mod)).
				Then(clientv3.OpPut(key, string(encodeEtcdValue(cur.uri, md)))).
				Else(clientv3.OpGet(key)).
				Commit()
			if err != nil {
				return err
			}
			if resp.Succeeded {
				s.applyPut(&etcdEntry{name: name, uri: cur.uri, md: md, create: cur.create, mod: resp.Header.Revision})
				return nil
			}
			kvs := resp.Responses[0].GetResponseRange().Kvs
			if len(kvs) == 0 {
				s.applyRemove([]string{name}, resp.Header.Revision)
				return ErrNotFound
			}
			kv := kvs[0]
			if cur = s.decode(kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision); cur == nil {
				return fmt.Errorf("%w: value of %q", errEtcdValue, key)
			}
		}
		return errContention
	})
}

// Delete implements Store. After a request whose outcome was unknown (a
// leader change), a retry that finds the name gone reports false even if
// the first attempt removed it.
func (s *Etcd) Delete(name string) (bool, error) {
	key := s.key(name)
	var ok bool
	err := s.do("remove", name, func(ctx context.Context) error {
		resp, err := s.cli.Delete(ctx, key)
		if err != nil {
			return err
		}
		ok = resp.Deleted > 0
		s.applyRemove([]string{name}, resp.Header.Revision)
		return nil
	})
	return ok, err
}

// DeleteMatching implements Store. Without a match it is one delete of the
// key range, atomic, whose previous values name exactly what it removed.
// With a match, the prefix's keys are read at a revision R, the matching
// ones grouped into runs of adjacent keys, and each run deleted as a key
// range in a transaction guarded by "no key in the run's range changed
// after R", so that a name registered or re-registered inside a run
// meanwhile is never removed unseen; when a guard fails the keys are read
// again. The names removed are exactly those that matched at R and were
// not changed before the removal; a name registered between the read and
// the removal outside the runs stays, as if registered just after it. A
// removal of more runs than one transaction may hold (MaxTxnOps) takes
// several transactions: each is atomic, the whole is not.
func (s *Etcd) DeleteMatching(prefix string, match func(name string) bool) ([]string, error) {
	var removed []removal
	err := s.do("remove names with prefix", prefix, func(ctx context.Context) error {
		if match == nil {
			resp, err := s.cli.Delete(ctx, s.key(prefix), clientv3.WithPrefix(), clientv3.WithPrevKV())
			if err != nil {
				return err
			}
			removed = s.removals(removed, resp.PrevKvs, resp.Header.Revision)
			return nil
		}
		for range etcdConflictRounds {
			done, err := s.deleteRuns(ctx, prefix, match, &removed)
			if err != nil || done {
				return err
			}
		}
		return errContention
	})
	if err != nil {
		return nil, err
	}
	return removedNames(removed), nil
}

// removal is a name DeleteMatching removed, with its create revision.
type removal struct {
	name   string
	create int64
}

// removals applies the deletion of kvs, the previous values a delete at
// revision rev returned, to the index and appends them to rs.
func (s *Etcd) removals(rs []removal, kvs []*mvccpb.KeyValue, rev int64) []removal {
	names := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		name := s.name(kv.Key)
		names = append(names, name)
		rs = append(rs, removal{name: name, create: kv.CreateRevision})
	}
	s.applyRemove(names, rev)
	return rs
}

// removedNames returns the names of rs in registration order (by create
// revision), as Store asks of DeleteMatching, nil when there are none.
func removedNames(rs []removal) []string {
	if len(rs) == 0 {
		return nil
	}
	slices.SortFunc(rs, func(a, b removal) int { return cmp.Compare(a.create, b.create) })
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.name
	}
	return names
}

// deleteRuns is one round of DeleteMatching with a match; it reports false
// when a guard failed and the round must be repeated.
func (s *Etcd) deleteRuns(ctx context.Context, prefix string, match func(string) bool, removed *[]removal) (bool, error) {
	resp, err := s.cli.Get(ctx, s.key(prefix), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return false, err
	}
	rev := resp.Header.Revision
	type run struct{ first, end string } // end: "" for a single key
	var runs []run
	var first, last []byte
	flush := func() {
		switch {
		case first == nil:
			return
		case bytes.Equal(first, last):
			runs = append(runs, run{first: string(first)})
		default:
			runs = append(runs, run{first: string(first), end: string(last) + "\x00"})
		}
		first = nil
	}
	for _, kv := range resp.Kvs {
		if !match(s.name(kv.Key)) {
			flush()
			continue
		}
		if first == nil {
			first = kv.Key
		}
		last = kv.Key
	}
	flush()
	for chunk := range slices.Chunk(runs, s.o.MaxTxnOps) {
		guards := make([]clientv3.Cmp, len(chunk))
		ops := make([]clientv3.Op, len(chunk))
		for i, r := range chunk {
			guards[i] = clientv3.Compare(clientv3.ModRevision(r.first), "<", rev+1)
			if r.end == "" {
				ops[i] = clientv3.OpDelete(r.first, clientv3.WithPrevKV())
				continue
			}
			guards[i] = guards[i].WithRange(r.end)
			ops[i] = clientv3.OpDelete(r.first, clientv3.WithRange(r.end), clientv3.WithPrevKV())
		}
		tr, err := s.cli.Txn(ctx).If(guards...).Then(ops...).Commit()
		if err != nil {
			return false, err
		}
		if !tr.Succeeded {
			return false, nil
		}
		var kvs []*mvccpb.KeyValue
		for _, r := range tr.Responses {
			kvs = append(kvs, r.GetResponseDeleteRange().PrevKvs...)
		}
		*removed = s.removals(*removed, kvs, tr.Header.Revision)
	}
	return true, nil
}
