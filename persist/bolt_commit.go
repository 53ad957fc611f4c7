package persist

import (
	"errors"
	"slices"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Writes go through a committer: one goroutine that takes every write queued
// while the previous commit was syncing and applies them all in one bbolt
// transaction, so N concurrent writers pay for one fsync instead of N. It
// plays the part of bbolt's DB.Batch, which always waits MaxBatchDelay
// (10 ms by default) before starting a batch, so that a lone writer pays
// that delay on every call. The committer starts a lone write at once, and
// waits only when the last commit was shared: then it gives the writers
// that commit released a moment (a fraction of the commit's duration, at
// most maxLinger) to queue their next write, so that the batch carries them
// all rather than the first one back.
//
// As with DB.Batch, an operation may run more than once (when another in
// its batch fails, the transaction is rolled back and the rest rerun), so
// every op function computes its results afresh from the transaction and
// only the run that committed is reported.

// writeOp is one queued write. fn runs inside the batch's transaction.
type writeOp struct {
	fn   func(tx *bolt.Tx) error
	done chan error
}

// refusal is returned by an op that declined before writing anything
// (ErrExists, ErrNotFound): the batch can still commit the other ops.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }

type committer struct {
	db      *bolt.DB
	ops     chan *writeOp
	max     int
	stopped chan struct{}
	// failure is set when bbolt itself panicked or faulted in a write
	// transaction (a damaged file): its state is then unknown, possibly with
	// the writer lock held, so every later write fails without touching it.
	failure atomic.Pointer[error]
	commits atomic.Int64 // transactions attempted
	writes  atomic.Int64 // writes answered from a committed transaction
}

// CommitStats counts a Bolt store's committed writes and the bbolt
// transactions they took since it was opened. Each transaction costs the
// disk's sync latency twice (bbolt syncs its pages, then its meta page), so
// Writes/Commits is how well concurrent writers are sharing those syncs.
type CommitStats struct {
	Writes  int64 // writes carried by transactions that committed (refusals such as ErrExists among them)
	Commits int64 // write transactions attempted, retries included
}

// PerCommit is the mean number of writes per transaction.
func (s CommitStats) PerCommit() float64 {
	if s.Commits == 0 {
		return 0
	}
	return float64(s.Writes) / float64(s.Commits)
}

// CommitStats reports the store's write grouping; it is safe to call at
// any time.
func (b *Bolt) CommitStats() CommitStats {
	return CommitStats{Writes: b.w.writes.Load(), Commits: b.w.commits.Load()}
}

func (c *committer) broken() error {
	if p := c.failure.Load(); p != nil {
		return *p
	}
	return nil
}

func startCommitter(db *bolt.DB, maxBatch int) *committer {
	c := &committer{db: db, ops: make(chan *writeOp, maxBatch), max: maxBatch, stopped: make(chan struct{})}
	go c.run()
	return c
}

// stop ends the committer once the queued writes are done. The caller
// guarantees that no write is being submitted.
func (c *committer) stop() {
	close(c.ops)
	<-c.stopped
}

// maxLinger bounds how long a batch waits for writers to come back.
const maxLinger = time.Millisecond

func (c *committer) run() {
	defer close(c.stopped)
	batch := make([]*writeOp, 0, c.max)
	results := make([]error, c.max)
	linger := time.NewTimer(0)
	<-linger.C
	// want is how many writers shared the last commit, and wait how long
	// to give them to queue their next write: right after a commit, the
	// writers it released have not yet come back, and a commit started at
	// once would carry only the first of them, leaving the rest for the
	// next one. A lone writer never waits (want is 1).
	want, wait := 1, time.Duration(0)
	for op := range c.ops {
		batch = append(batch[:0], op)
		open := true
	drain:
		for open && len(batch) < c.max {
			select {
			case op, ok := <-c.ops:
				if open = ok; ok {
					batch = append(batch, op)
				}
			default:
				break drain
			}
		}
		if open && len(batch) < want && wait > 0 {
			linger.Reset(wait)
		gather:
			for len(batch) < want {
				select {
				case op, ok := <-c.ops:
					if !ok {
						break gather
					}
					batch = append(batch, op)
				case <-linger.C:
					break gather
				}
			}
			linger.Stop()
		}
		start := time.Now()
		c.commit(batch, results)
		// Waiting up to a fraction of a commit keeps the cost of a wrong
		// guess (a writer that does not come back) small against the sync
		// every write pays anyway.
		want, wait = len(batch), min(time.Since(start)/4, maxLinger)
	}
}

// commit applies batch in one transaction. An op that fails with a real
// error (not a refusal) may have written part of its change, so the
// transaction is discarded, that op is run alone to get its own verdict, and
// the others are retried together.
func (c *committer) commit(batch []*writeOp, results []error) {
	for len(batch) > 0 {
		if err := c.broken(); err != nil {
			for _, op := range batch {
				op.done <- err
			}
			return
		}
		failed := -1
		c.commits.Add(1)
		err, crashed := guarded(func() error {
			return c.db.Update(func(tx *bolt.Tx) error {
				for i, op := range batch {
					err := guard(func() error { return op.fn(tx) })
					var r refusal
					switch {
					case errors.As(err, &r):
						results[i] = r.err
					case err != nil:
						failed = i
						return err
					default:
						results[i] = nil
					}
				}
				return nil
			})
		})
		if crashed {
			c.failure.Store(&err)
		}
		if failed >= 0 {
			batch[failed].done <- c.solo(batch[failed])
			// Clone: the caller's slice must keep every op it passed.
			batch = slices.Delete(slices.Clone(batch), failed, failed+1)
			continue
		}
		if err == nil {
			c.writes.Add(int64(len(batch)))
		}
		for i, op := range batch {
			if err != nil {
				op.done <- err
			} else {
				op.done <- results[i]
			}
		}
		return
	}
}

func (c *committer) solo(op *writeOp) error {
	if err := c.broken(); err != nil {
		return err
	}
	c.commits.Add(1)
	err, crashed := guarded(func() error {
		return c.db.Update(func(tx *bolt.Tx) error {
			return guard(func() error { return op.fn(tx) })
		})
	})
	if crashed {
		c.failure.Store(&err)
	}
	if err == nil {
		c.writes.Add(1)
	}
	var r refusal
	if errors.As(err, &r) {
		return r.err
	}
	return err
}
