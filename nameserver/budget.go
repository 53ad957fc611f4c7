package nameserver

import (
	"errors"
	"fmt"
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// DefaultSendTimeout bounds the write of one reply when neither
// Options.SendTimeout nor Options.CommTimeout is set. A client that does not
// read its replies (a pipelining client that never reads, a stalled peer)
// keeps the reply it is owed in memory until the write gives up; without a
// deadline that is forever.
const DefaultSendTimeout = 30 * time.Second

// DefaultReplyBudget is Options.ReplyBudget's default: the bytes of encoded
// replies that all connections together may hold while they wait to be
// written. One listing of a million names with their metadata (about
// 330 MB) still fits.
const DefaultReplyBudget = 512 << 20

// smallReply is the size up to which a reply is always sent, whatever the
// budget: a lookup or a count must keep working while large listings are
// refused, and a connection holds at most one reply at a time.
const smallReply = 64 << 10

// bounds is what keeps clients within limits: the send deadline, the reply
// budget, the scan deadline, the connection limit and the rate of security
// warnings. A Server has one, set up from its Options in New.
type bounds struct {
	sendTimeout time.Duration
	scanTimeout time.Duration // <= 0: none
	maxConns    int           // 0: unlimited
	replies     replyBudget
	sec         *logLimiter[string] // security warnings, per peer
	storeLog    *logLimiter[string] // store errors, one count for all
	refusing    atomic.Int32        // connections being refused (connlimit.go)
}

func (b *bounds) init(o *Options) {
	b.sendTimeout = o.SendTimeout
	if b.sendTimeout <= 0 {
		b.sendTimeout = o.CommTimeout
	}
	if b.sendTimeout <= 0 {
		b.sendTimeout = DefaultSendTimeout
	}
	b.scanTimeout = o.ScanTimeout
	if b.scanTimeout == 0 {
		b.scanTimeout = DefaultScanTimeout
	}
	b.replies.limit = o.ReplyBudget
	switch {
	case b.replies.limit == 0:
		b.replies.limit = DefaultReplyBudget
	case b.replies.limit < 0:
		b.replies.limit = math.MaxInt64
	}
	b.maxConns = o.MaxConnections
	b.sec = newLogLimiter[string](securityBurst, securityGlobal, securityWindow, securityPeers)
	b.storeLog = newLogLimiter[string](securityBurst, 0, securityWindow, 1)
}

// callLimits is what a name server call needs of the bounds.
func (b *bounds) callLimits() callLimits {
	return callLimits{scanTimeout: b.scanTimeout, replies: &b.replies}
}

// replyBudget counts the bytes of encoded replies not yet written.
type replyBudget struct {
	limit int64
	held  atomic.Int64
}

// acquire accounts for a reply of n bytes about to be written, or refuses
// it when it is larger than smallReply and would take the held bytes past
// the limit.
func (b *replyBudget) acquire(n int) *wire.Exception {
	held := b.held.Add(int64(n))
	if n <= smallReply || held <= b.limit {
		return nil
	}
	b.held.Add(-int64(n))
	return b.refusal(int64(n), held-int64(n))
}

// release gives back a reply's n bytes and returns the bytes that were
// held with it: what the replies of every connection had pinned.
func (b *replyBudget) release(n int) int64 { return b.held.Add(-int64(n)) + int64(n) }

// room is how many bytes a reply may have now without being refused.
func (b *replyBudget) room() int64 {
	if b == nil || b.limit == math.MaxInt64 {
		return math.MaxInt64
	}
	return max(b.limit-b.held.Load(), smallReply)
}

// refusal is the error a client gets for a reply the budget has no room
// for. It is a NamingError, which every Pyro4 client raises as it is and
// which does not end the connection: the same call can succeed later, or
// narrowed.
func (b *replyBudget) refusal(size, held int64) *wire.Exception {
	if size > b.limit {
		return namingError("reply of at least %d bytes is larger than the name server's reply_budget of %d bytes (narrow the listing)", size, b.limit)
	}
	return namingError("reply of at least %d bytes refused: %d bytes of replies wait to be sent and the name server's reply_budget is %d bytes (retry later or narrow the listing)", size, held, b.limit)
}

// armWrite sets the write deadline for the next reply. A large reply
// (exact) gets the whole send timeout from now; a small one keeps the
// deadline set before while at least half of the timeout is left of it, so
// that the hot path does not reset a timer on every reply. With
// CommTimeout set every reply gets it in full, as Pyro4's socket timeout.
func (cn *conn) armWrite(exact bool) {
	t := cn.s.bounds.sendTimeout
	now := time.Now()
	if exact || cn.s.opts.CommTimeout > 0 || cn.wdl.Sub(now) < t/2 {
		cn.wdl = now.Add(t)
		cn.c.SetWriteDeadline(cn.wdl)
	}
}

// writeLarge writes a large message without copying its data behind the
// header: net.Buffers writes both from where they lie.
func (cn *conn) writeLarge(m *wire.Message, key []byte) error {
	head, err := m.AppendHead(cn.out[:0], key)
	if err != nil {
		return err
	}
	cn.out = head[:0]
	cn.armWrite(true)
	bufs := net.Buffers{head, m.Data}
	_, err = bufs.WriteTo(cn.c)
	return cn.writeFailed(err)
}

// writeFailed reports a write that ran into the send deadline: the client
// did not read its reply in time, and its connection is cut so that the
// reply's memory is given back.
func (cn *conn) writeFailed(err error) error {
	if err == nil {
		return nil
	}
	// Declared here, not above: errors.As moves it to the heap, which the
	// path of every reply must not pay for.
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		cn.securityEvent("reply not read within the send timeout; connection closed",
			fmt.Errorf("%w (send timeout %v)", err, cn.s.bounds.sendTimeout))
	}
	return err
}

// hintAbove is the number of items from which a listing's encoding buffer
// is sized up front.
const hintAbove = 1024

// sizeHint estimates the encoded size of a large listing (a dict of names
// to URIs, or to (URI, metadata) tuples), 0 for anything else. Appending
// to a buffer from empty allocates about five times its final size for a
// buffer of megabytes (large slices grow by a quarter), all of it held
// until the reply is written; one buffer of about the right size is one
// copy.
func sizeHint(v wire.Value) int {
	d, ok := v.(*wire.Dict)
	if !ok || d.Len() < hintAbove {
		return 0
	}
	n := 0
	for _, it := range d.Items {
		n += 8 + strLen(it.Key)
		switch x := it.Value.(type) {
		case string:
			n += len(x)
		case wire.Tuple:
			for _, y := range x {
				n += 4 + strLen(y)
				if l, ok := y.(wire.List); ok {
					for _, m := range l {
						n += 4 + strLen(m)
					}
				}
			}
		}
	}
	return n + n/8
}

func strLen(v wire.Value) int {
	if s, ok := v.(string); ok {
		return len(s)
	}
	return 0
}
