package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// session is a connected, handshaken client for setup and control calls,
// each bounded by the timeout.
type session struct {
	pc      *pconn
	codec   wire.Codec
	timeout time.Duration
}

func openSession(d *dialer, n int, codec wire.Codec, timeout time.Duration) (*session, error) {
	c, err := d.dial(n)
	if err != nil {
		return nil, err
	}
	pc := newPconn(c, codec.ID())
	pc.setDeadline(time.Now().Add(timeout))
	hs, err := handshakeData(codec, nsObject)
	if err == nil {
		err = pc.handshake(hs)
	}
	if err != nil {
		pc.close()
		return nil, fmt.Errorf("handshake with %s: %w", d.addr, err)
	}
	return &session{pc: pc, codec: codec, timeout: timeout}, nil
}

func (s *session) close() { s.pc.close() }

// call invokes a name server method and decodes the result.
func (s *session) call(method string, args []wire.Value, kwargs *wire.Dict) (wire.Value, error) {
	data, err := marshalCall(s.codec, method, args, kwargs)
	if err != nil {
		return nil, err
	}
	return s.send(method, data, 0)
}

func (s *session) send(what string, data []byte, flags uint16) (wire.Value, error) {
	s.pc.setDeadline(time.Now().Add(s.timeout))
	res, err := s.pc.invoke(data, flags, s.codec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	v, err := s.codec.Unmarshal(res)
	if err != nil {
		return nil, fmt.Errorf("%s reply: %w", what, err)
	}
	return v, nil
}

func kw(k string, v wire.Value) *wire.Dict {
	d := wire.NewDict(1)
	d.Append(k, v)
	return d
}

func asInt(v wire.Value) (int, bool) {
	n, ok := v.(int64)
	return int(n), ok
}

// namesPresent reports whether the server holds exactly the names a run
// needs, so that consecutive runs against one server skip the setup.
func namesPresent(s *session, names, match int) bool {
	v, err := s.call("count", nil, nil)
	if n, ok := asInt(v); err != nil || !ok || n != names+1 { // + Pyro.NameServer
		return false
	}
	for _, i := range []int{0, names - 1} {
		v, err := s.call("lookup", []wire.Value{benchName(match, i)}, nil)
		if err != nil {
			return false
		}
		if u, err := checkURI(v); err != nil || u != benchURI(i) {
			return false
		}
	}
	return true
}

// setupNames registers the names a run needs with batch calls over a few
// connections, after removing other bench names. It reports whether the
// names were already there.
func setupNames(d *dialer, cfg *loadConfig, logf func(string, ...any)) (skipped bool, err error) {
	s, err := openSession(d, 0, cfg.codec, cfg.Timeout)
	if err != nil {
		return false, err
	}
	defer s.close()
	if namesPresent(s, cfg.Names, cfg.Match) {
		return true, nil
	}
	s.timeout = max(s.timeout, time.Minute)
	if _, err := s.call("remove", nil, kw("prefix", benchRoot)); err != nil {
		return false, fmt.Errorf("clearing old bench names: %w", err)
	}
	logf("registering %d names", cfg.Names)
	if err := registerAll(d, cfg); err != nil {
		return false, err
	}
	v, err := s.call("lookup", []wire.Value{benchName(cfg.Match, cfg.Names-1)}, nil)
	if err != nil {
		return false, fmt.Errorf("checking the registrations: %w", err)
	}
	if u, err := checkURI(v); err != nil || u != benchURI(cfg.Names-1) {
		return false, fmt.Errorf("checking the registrations: lookup of the last name gave %s", wire.Repr(v))
	}
	return false, nil
}

// registerAll registers names 0..cfg.Names-1 in batches of cfg.Batch.
func registerAll(d *dialer, cfg *loadConfig) error {
	var (
		next int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	batches := int64((cfg.Names + cfg.Batch - 1) / cfg.Batch)
	for w := range min(cfg.SetupClients, int(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := registerBatches(d, w, cfg, &next, batches)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func registerBatches(d *dialer, w int, cfg *loadConfig, next *int64, batches int64) error {
	s, err := openSession(d, w, cfg.codec, cfg.Timeout)
	if err != nil {
		return err
	}
	defer s.close()
	empty := wire.NewDict(0)
	for {
		b := atomic.AddInt64(next, 1) - 1
		if b >= batches {
			return nil
		}
		lo := int(b) * cfg.Batch
		hi := min(lo+cfg.Batch, cfg.Names)
		calls := make([]wire.Value, 0, hi-lo)
		for i := lo; i < hi; i++ {
			calls = append(calls, wire.Tuple{"register", wire.Tuple{benchName(cfg.Match, i), benchURI(i)}, empty})
		}
		data, err := marshalCall(cfg.codec, "<batch>", calls, nil)
		if err != nil {
			return err
		}
		v, err := s.send("batch register", data, wire.FlagBatch)
		if err != nil {
			return err
		}
		if err := checkBatch(v, hi-lo); err != nil {
			return fmt.Errorf("batch register of names %d..%d: %w", lo, hi-1, err)
		}
	}
}

// checkBatch verifies a batch result: one None per call, no exception.
func checkBatch(v wire.Value, n int) error {
	var items []wire.Value
	switch x := v.(type) {
	case wire.List:
		items = x
	case wire.Tuple:
		items = x
	default:
		return fmt.Errorf("result is %s, want list", wire.TypeName(v))
	}
	for _, it := range items {
		if it != nil {
			return fmt.Errorf("a call returned %s", wire.Repr(it))
		}
	}
	if len(items) != n {
		return fmt.Errorf("%d results for %d calls", len(items), n)
	}
	return nil
}

// removePrefix calls remove(prefix=p) and returns the number removed.
func removePrefix(s *session, p string) (int, error) {
	v, err := s.call("remove", nil, kw("prefix", p))
	if err != nil {
		return 0, err
	}
	n, ok := asInt(v)
	if !ok {
		return 0, fmt.Errorf("remove(prefix=%q) returned %s", p, wire.Repr(v))
	}
	return n, nil
}
