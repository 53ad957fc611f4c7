package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pyro4/pyro4/nameserver/config"
	"github.com/pyro4/pyro4/persist"
)

// migrateStore is a place migrate copies from or to: a persist.Location
// (a file) or an etcd name space.
type migrateStore interface {
	String() string
	Exists() (bool, error)
	Read() ([]persist.Entry, error)
	Write(entries []persist.Entry, progress func(done int)) error
}

// etcdOpenTimeout bounds migrate's wait for an unreachable cluster: a copy
// is run by hand, so it fails rather than waits as a name server does.
const etcdOpenTimeout = 30 * time.Second

// etcdLocation is the name space of an etcd cluster as migrate reads and
// writes it, with the [etcd] table of a config file (prefix, timeouts,
// TLS, credentials) or the defaults.
type etcdLocation struct {
	spec string
	opts persist.EtcdOptions
}

// parseMigrateStore reads FROM or TO: etcd:ENDPOINT[,ENDPOINT...] (with
// the [etcd] table of cfg, when given) or what persist.ParseLocation reads.
func parseMigrateStore(spec, cfg string) (migrateStore, error) {
	if !strings.HasPrefix(spec, "etcd:") {
		return persist.ParseLocation(spec)
	}
	if _, err := persist.ParseStorage(spec); err != nil {
		return nil, err
	}
	layers := []config.Layer{}
	if cfg != "" {
		c, err := config.Load(cfg, os.LookupEnv)
		if err != nil {
			return nil, err
		}
		layers = append(layers, c.Layer())
	}
	layers = append(layers, config.Layer{Storage: config.Given(spec, config.FlagSource("FROM/TO"))})
	r, err := config.Resolve(config.ForServer, layers...)
	if err != nil {
		return nil, err
	}
	o, _ := r.Settings().EtcdOptions()
	return etcdLocation{spec: spec, opts: o}, nil
}

func (l etcdLocation) String() string { return l.spec + " (prefix " + l.opts.Prefix + ")" }

func (l etcdLocation) open() (*persist.Etcd, error) {
	ctx, cancel := context.WithTimeout(context.Background(), etcdOpenTimeout)
	defer cancel()
	return persist.OpenEtcd(ctx, l.opts)
}

// Exists is true: a name space is there on any cluster, maybe empty.
func (l etcdLocation) Exists() (bool, error) { return true, nil }

// Read returns the name space in registration order.
func (l etcdLocation) Read() ([]persist.Entry, error) {
	s, err := l.open()
	if err != nil {
		return nil, err
	}
	var out []persist.Entry
	err = s.Range("", func(e persist.Entry) bool {
		e.Metadata = append([]string(nil), e.Metadata...)
		out = append(out, e)
		return true
	})
	return out, errors.Join(err, s.Close())
}

// etcdProgressEvery spaces the progress calls of a write.
const etcdProgressEvery = 1000

// Write puts the entries one after the other, so that their create
// revisions, the cluster's registration order, follow the source's order;
// each is committed by a quorum before the next.
func (l etcdLocation) Write(entries []persist.Entry, progress func(done int)) error {
	s, err := l.open()
	if err != nil {
		return err
	}
	for i, e := range entries {
		if err := s.Put(e); err != nil {
			return errors.Join(fmt.Errorf("after %d of %d registrations: %w", i, len(entries), err), s.Close())
		}
		if progress != nil && ((i+1)%etcdProgressEvery == 0 || i+1 == len(entries)) {
			progress(i + 1)
		}
	}
	return s.Close()
}
