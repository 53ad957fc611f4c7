package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/pyro4/pyro4/nameserver/config"
	"github.com/pyro4/pyro4/opsweb"
	"github.com/pyro4/pyro4/persist"
)

// openStore opens the storage the settings name. An etcd store is waited
// for while etcd is unreachable (persist logs each retry) until ctx ends,
// so that a node started before its cluster comes up once the cluster does.
//
// onRemote, when not nil, receives the changes other nodes make to a shared
// (etcd) store; this node's own changes reach the change feed through the
// registry.
func openStore(ctx context.Context, s config.Settings, log *slog.Logger, onRemote func(persist.RemoteChange)) (persist.Store, error) {
	o, ok := s.EtcdOptions()
	if !ok {
		return persist.Open(s.Storage)
	}
	o.Logger = log
	o.OnRemoteChange = onRemote
	st, err := persist.OpenEtcd(ctx, o)
	if err != nil {
		return nil, err
	}
	return &etcdStore{Etcd: st, opts: o}, nil
}

// etcdStore is the name server's etcd store: persist.Etcd with the
// readiness that /readyz reports.
type etcdStore struct {
	*persist.Etcd
	opts persist.EtcdOptions
}

// staleAfter is how old the index may be, with etcd answering, before the
// node counts as not ready: a few of the store's checks (one a second)
// plus a request's time.
func (s *etcdStore) staleAfter() time.Duration {
	rt := s.opts.RequestTimeout
	if rt <= 0 {
		rt = 5 * time.Second
	}
	return 3*time.Second + rt
}

// Ready is nameserver.ReadinessChecker: not ready while etcd is
// unreachable or without quorum, or while the local index lags.
func (s *etcdStore) Ready() error {
	st := s.Status()
	switch {
	case st.Err != nil:
		return fmt.Errorf("etcd unavailable, serving reads from an index %v old: %w", st.Age().Round(time.Millisecond), st.Err)
	case st.Age() > s.staleAfter():
		return fmt.Errorf("etcd index stale: last current %v ago", st.Age().Round(time.Millisecond))
	}
	return nil
}

// cluster is the store's part of /api/v1/status.
func (s *etcdStore) cluster() *opsweb.ClusterStatus {
	st := s.Status()
	c := &opsweb.ClusterStatus{
		Backend:         "etcd",
		State:           "healthy",
		Endpoints:       s.opts.Endpoints,
		IndexAgeSeconds: st.Age().Seconds(),
		Detail:          fmt.Sprintf("index at revision %d, %d resyncs after compaction", st.Revision, st.Resyncs),
	}
	if err := s.Ready(); err != nil {
		c.State, c.Detail = "unavailable", err.Error()
		if st.Err == nil {
			c.State = "stale"
		}
	}
	return c
}
