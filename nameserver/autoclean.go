package nameserver

import (
	"context"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// autocleanParallel bounds the connection attempts of one round.
const autocleanParallel = 16

// autoclean is Pyro4's AutoCleaner: every AutoClean interval it tries to
// connect to the server of each registration, and removes a registration
// whose server has been unreachable for AutoCleanUnreachable. The name
// server's own entry and static entries are never touched.
func (s *Server) autoclean() {
	defer s.wg.Done()
	delay := s.opts.AutoCleanLoopDelay
	if delay <= 0 {
		delay = 2 * time.Second
	}
	maxUnreachable := s.opts.AutoCleanUnreachable
	if maxUnreachable <= 0 {
		maxUnreachable = 20 * time.Second
	}
	unreachable := map[string]time.Time{}
	last := time.Now()
	tick := time.NewTicker(delay)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		if time.Since(last) < s.opts.AutoClean {
			continue
		}
		if !s.AutocleanLeader() {
			// Another node of the cluster sweeps; its view of what is
			// unreachable is the one that counts.
			clear(unreachable)
			continue
		}
		s.safeCleanRound(unreachable, maxUnreachable)
		last = time.Now()
	}
}

// safeCleanRound runs one round; a panic in it (a bug, or a Store that
// panics) is logged and the next round runs as usual, so that it cannot
// take the name server down with it.
func (s *Server) safeCleanRound(unreachable map[string]time.Time, maxUnreachable time.Duration) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("autoclean: panic in a round; continuing with the next", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	s.cleanRound(unreachable, maxUnreachable)
}

func (s *Server) cleanRound(unreachable map[string]time.Time, maxUnreachable time.Duration) {
	var entries []persist.Entry
	err := s.reg.Range("", func(e persist.Entry, static bool) bool {
		if !static && e.Name != NameServerName && e.Name != DaemonName {
			entries = append(entries, persist.Entry{Name: e.Name, URI: e.URI})
		}
		return true
	})
	if err != nil {
		s.log.Error("autoclean: listing names", "err", err)
		return
	}
	reachable := s.probe(entries)
	if s.ctx.Err() != nil {
		return
	}
	now := time.Now()
	present := make(map[string]bool, len(entries))
	for i, e := range entries {
		present[e.Name] = true
		if reachable[i] {
			delete(unreachable, e.Name)
			continue
		}
		since, ok := unreachable[e.Name]
		if !ok {
			unreachable[e.Name], since = now, now
		}
		if now.Sub(since) < maxUnreachable {
			continue
		}
		delete(unreachable, e.Name)
		// Only the registration that was probed goes: one re-registered
		// meanwhile points somewhere else and gets its own chance.
		cur, found, err := s.reg.Lookup(e.Name)
		if err != nil || !found || cur.URI != e.URI || s.reg.IsStatic(e.Name) {
			continue
		}
		if _, err := s.reg.Remove(e.Name); err != nil {
			s.log.Error("autoclean: removing name", "name", e.Name, "err", err)
			continue
		}
		s.metrics.AutocleanRemoved(1)
		// A warning, so that the default log shows it: a name went away
		// without any client asking.
		s.log.Warn("autoclean: unregistered name; cannot connect to its uri",
			"name", e.Name, "uri", e.URI, "for", maxUnreachable)
	}
	for name := range unreachable {
		if !present[name] {
			delete(unreachable, name)
		}
	}
	if len(unreachable) > 0 {
		s.log.Debug("autoclean: names currently unreachable", "unreachable", len(unreachable), "checked", len(entries))
	}
}

// probe tries to connect to each entry's server, a few at a time. An entry
// without a location (a PYRONAME or PYROMETA URI without a host) counts as
// reachable: there is nothing to test.
func (s *Server) probe(entries []persist.Entry) []bool {
	timeout := s.opts.CommTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	reachable := make([]bool, len(entries))
	sem := make(chan struct{}, autocleanParallel)
	var wg sync.WaitGroup
	for i, e := range entries {
		u, err := wire.ParseURI(e.URI)
		if err != nil {
			continue
		}
		network, addr, ok := dialAddress(u)
		if !ok {
			reachable[i] = true
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(s.ctx, timeout)
			defer cancel()
			var d net.Dialer
			if c, err := d.DialContext(ctx, network, addr); err == nil {
				c.Close()
				reachable[i] = true
			}
		}()
	}
	wg.Wait()
	return reachable
}

// dialAddress is where a URI's server listens, as net.Dial takes it: a TCP
// host:port or a Unix socket path. ok is false for a URI without a location.
func dialAddress(u wire.URI) (network, address string, ok bool) {
	switch {
	case u.Sockname != "":
		return "unix", u.Sockname, true
	case u.Host != "":
		return "tcp", u.Location(), true
	}
	return "", "", false
}
