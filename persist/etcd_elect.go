package persist

import (
	"context"
	"errors"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// defaultEtcdElectionTTL is the lease of a candidate: a leader that loses
// etcd steps down, and another node takes over, within about this long.
const defaultEtcdElectionTTL = 10 * time.Second

// Campaign runs this store as candidate in the election named election
// among every store of the name space (every node), so that a task such as
// autoclean runs on one node at a time. candidate names this node to the
// others (its URI, say); Leader reports it.
//
// The channel receives true when this store becomes leader and false when
// it loses leadership (its lease lapsed while etcd was unreachable; it then
// campaigns again). It is closed when ctx ends or the store closes, after
// resigning, so the next candidate takes over at once. A leader cut off
// from etcd learns it lost only when its lease runs out (ElectionTTL), about
// when another node may win: the two can overlap by a moment, so the task
// must be safe to run twice, as autoclean is.
func (s *Etcd) Campaign(ctx context.Context, election, candidate string) <-chan bool {
	ch := make(chan bool)
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		close(ch)
		return ch
	}
	s.wg.Add(1)
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	go func() {
		defer s.wg.Done()
		defer close(ch)
		defer stop()
		defer cancel()
		delay := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := s.lead(ctx, election, candidate, ch)
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("etcd election: campaigning again", "election", election, "err", err, "retry_in", delay)
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(2*delay, 5*time.Second)
		}
	}()
	return ch
}

// lead campaigns once: it returns when leadership is lost, ctx ends, or
// the campaign fails.
func (s *Etcd) lead(ctx context.Context, election, candidate string, ch chan<- bool) error {
	ttl := max(1, int(s.o.ElectionTTL/time.Second))
	sess, err := concurrency.NewSession(s.cli, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		return err
	}
	defer s.resign(sess)
	// The campaign stops when the session's lease is lost while waiting:
	// winning on a lapsed lease would be winning nothing.
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	go func() {
		select {
		case <-sess.Done():
			ccancel()
		case <-cctx.Done():
		}
	}()
	el := concurrency.NewElection(sess, s.o.Prefix+etcdElectDir+election+"/")
	if err := el.Campaign(cctx, candidate); err != nil {
		return err
	}
	select {
	case ch <- true:
	case <-cctx.Done():
		return errors.New("lost the lease before taking the lead")
	}
	select {
	case <-sess.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case ch <- false:
	case <-ctx.Done():
	}
	return errors.New("leadership lost: the lease lapsed")
}

// resign ends a session on a context of its own (the campaign's has ended):
// revoking the lease deletes the candidate's key, so the next one wins now
// rather than when the lease would have run out.
func (s *Etcd) resign(sess *concurrency.Session) {
	sess.Orphan()
	ctx, cancel := context.WithTimeout(context.Background(), s.o.RequestTimeout)
	defer cancel()
	s.cli.Revoke(ctx, sess.Lease())
}

// Leader returns the candidate string of the current leader of election,
// and false when there is none.
func (s *Etcd) Leader(ctx context.Context, election string) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.RequestTimeout)
	defer cancel()
	resp, err := s.cli.Get(ctx, s.o.Prefix+etcdElectDir+election+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", false, &etcdError{op: "read the leader of", name: election, err: err}
	}
	if len(resp.Kvs) == 0 {
		return "", false, nil
	}
	return string(resp.Kvs[0].Value), true, nil
}
