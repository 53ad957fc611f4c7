package persist

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
)

// DefaultEtcdPrefix is the key prefix of a name space when EtcdOptions
// names none. Name spaces that share a cluster use distinct prefixes, none
// a prefix of another.
const DefaultEtcdPrefix = "/pyro4/"

// Under the prefix, names and elections have keys of their own, so that a
// listing of the names never meets an election's keys.
const (
	etcdNamesDir = "names/"
	etcdElectDir = "elect/"
)

const (
	defaultEtcdDialTimeout    = 5 * time.Second
	defaultEtcdRequestTimeout = 5 * time.Second
	defaultEtcdCheckInterval  = time.Second
	// defaultEtcdMaxTxnOps is etcd's own default of --max-txn-ops.
	defaultEtcdMaxTxnOps = 128
	// etcdPageSize is how many keys one range request of a (re)load reads.
	// etcd counts the keys left in the range for every page, so a load
	// costs about n²/(2·page) index steps in etcd: small pages make a
	// million names take most of a minute, 50,000 (a few MB a page) keeps
	// it to seconds.
	etcdPageSize = 50_000
)

// ErrUnavailable is wrapped by every error of an Etcd store that comes from
// etcd: unreachable, without quorum, or refusing the request. The name
// server answers such a write with NamingError('name server storage
// unavailable: ...'). As with any request that timed out, the outcome of
// such a write is unknown: a member that took it into its log before
// losing quorum may still commit it when the cluster heals, and then every
// node's index shows it.
var ErrUnavailable = errors.New("storage unavailable")

// EtcdOptions configures OpenEtcd. Only Endpoints is required.
type EtcdOptions struct {
	// Endpoints are the client URLs of the etcd members
	// ("http://10.0.0.1:2379"; https:// with TLS).
	Endpoints []string
	// Prefix is the key prefix of the name space (DefaultEtcdPrefix when
	// empty). Names are kept at Prefix+"names/"+name.
	Prefix string
	// DialTimeout bounds connecting to an endpoint (5 s when zero).
	DialTimeout time.Duration
	// RequestTimeout bounds each write, and each read of a load, including
	// its retries while etcd elects a leader (5 s when zero). A write that
	// cannot commit by then fails with ErrUnavailable.
	RequestTimeout time.Duration
	// CheckInterval is how often the store confirms with a quorum read that
	// its index is current (1 s when zero); Status reports the result.
	CheckInterval time.Duration
	// MaxTxnOps is the cluster's --max-txn-ops (128 when zero).
	MaxTxnOps int
	// ElectionTTL is the lease of a Campaign, in whole seconds (10 s when
	// zero).
	ElectionTTL time.Duration

	// TLS, when set, is used as is. Otherwise CAFile (the CA that signed
	// the members' certificates) and CertFile with KeyFile (this client's
	// certificate) build it; any of them makes the connection TLS.
	TLS                       *tls.Config
	CAFile, CertFile, KeyFile string

	// Username and a password authenticate to etcd; PasswordFile, when
	// set, holds the password (trailing line end removed) instead of
	// Password.
	Username, Password, PasswordFile string

	// Logger receives the store's reports: etcd unreachable while opening
	// (with each retry), the index going stale and fresh again, watch
	// restarts and resyncs. Nil discards them.
	Logger *slog.Logger
	// OnRemoteChange, when set, is called for each change the watch brings
	// into the index that this store did not make itself (another node's
	// register, metadata change or removal), in revision order, outside
	// the store's lock. It must not block for long: the watch waits.
	OnRemoteChange func(RemoteChange)
}

// RemoteChange is a change another node made, as the watch delivered it.
type RemoteChange struct {
	Entry   Entry  // the entry as it now is; for a removal, as it was
	Removed bool   // the name was removed
	Existed bool   // the name was in the index before (a replacement, not a new name)
	PrevURI string // the URI it had before, when it existed
}

// Etcd is a Store whose registrations live in an etcd cluster, shared by
// every name server on it. Reads are answered from a local index, filled
// by a range read at one revision and kept current by a watch from the
// next one; they go on, from the index, while etcd is unreachable. Writes
// return only after etcd has committed them (a quorum of members), and are
// in the index when they return. Range lists in registration order across
// the cluster: by the key's create revision, which a re-put keeps and a
// delete ends.
type Etcd struct {
	o      EtcdOptions
	cli    *clientv3.Client
	names  string // the key prefix of names
	log    *slog.Logger
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool

	mu    sync.RWMutex
	index *etcdIndex
	// caught is signalled (closed and replaced) whenever the watch
	// advances the index, for the freshness check waiting on it.
	caught chan struct{}

	// watchCtx is the context of the current watch, which RequestProgress
	// needs to reach that watch's stream.
	watchCtx atomic.Pointer[context.Context]

	health etcdHealth
}

// OpenEtcd connects to the cluster and loads the name space. While etcd is
// unreachable it retries, reporting each failure to the logger, until ctx
// ends; ctx bounds only the opening, not the store's life. A refusal that
// retrying cannot cure (wrong password, no permission) fails at once.
func OpenEtcd(ctx context.Context, o EtcdOptions) (*Etcd, error) {
	o, cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	s := &Etcd{o: o, names: o.Prefix + etcdNamesDir, log: o.Logger, caught: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	eps := strings.Join(o.Endpoints, ",")
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err = s.connect(ctx, cfg)
		if err == nil {
			break
		}
		if refused(err) {
			return nil, fmt.Errorf("open etcd %s: %w: %v", eps, ErrUnavailable, err)
		}
		s.log.Warn("etcd not reachable; retrying", "endpoints", eps, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open etcd %s: %w: %v (gave up after %d attempts: %v)", eps, ErrUnavailable, err, attempt, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.health.synced(time.Now(), s.index.rev)
	s.wg.Add(2)
	go s.follow()
	go s.check()
	return s, nil
}

// connect makes the client and loads the index; on failure nothing is left
// open.
func (s *Etcd) connect(ctx context.Context, cfg clientv3.Config) error {
	cli, err := clientv3.New(cfg)
	if err != nil {
		return err
	}
	s.cli = cli
	idx, err := s.load(ctx)
	if err != nil {
		cli.Close()
		return err
	}
	s.index = idx
	return nil
}

// refused reports whether etcd turned the client away for a reason that
// waiting does not cure: a wrong user or password, no permission.
func refused(err error) bool {
	var ee rpctypes.EtcdError
	if !errors.As(err, &ee) {
		return false
	}
	switch ee.Code() {
	case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.FailedPrecondition:
		return true
	}
	return false
}

func (o EtcdOptions) config() (EtcdOptions, clientv3.Config, error) {
	if len(o.Endpoints) == 0 {
		return o, clientv3.Config{}, errors.New("etcd: no endpoints")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultEtcdPrefix
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = defaultEtcdDialTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaultEtcdRequestTimeout
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = defaultEtcdCheckInterval
	}
	if o.ElectionTTL <= 0 {
		o.ElectionTTL = defaultEtcdElectionTTL
	}
	if o.MaxTxnOps <= 0 {
		o.MaxTxnOps = defaultEtcdMaxTxnOps
	}
	tc, err := o.tlsConfig()
	if err != nil {
		return o, clientv3.Config{}, err
	}
	for _, ep := range o.Endpoints {
		if tc != nil && strings.HasPrefix(ep, "http://") {
			return o, clientv3.Config{}, fmt.Errorf("etcd endpoint %q: TLS is configured, use https://", ep)
		}
	}
	password := o.Password
	if o.PasswordFile != "" {
		b, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			return o, clientv3.Config{}, fmt.Errorf("etcd password: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	if o.Username == "" && password != "" {
		return o, clientv3.Config{}, errors.New("etcd: a password without a username")
	}
	return o, clientv3.Config{
		Endpoints:   o.Endpoints,
		DialTimeout: o.DialTimeout,
		// Keepalives find a member that vanished without closing the
		// connection (a dead machine, a partition).
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 3 * time.Second,
		TLS:                  tc,
		Username:             o.Username,
		Password:             password,
		Logger:               zap.NewNop(),
		// gRPC's default reconnect backoff grows to two minutes: after a
		// long outage a node would catch up that long after etcd is back.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: o.DialTimeout,
		})},
	}, nil
}

func (o EtcdOptions) tlsConfig() (*tls.Config, error) {
	if o.TLS != nil {
		return o.TLS.Clone(), nil
	}
	if o.CAFile == "" && o.CertFile == "" && o.KeyFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA %q: no PEM certificate", o.CAFile)
		}
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("etcd: a client certificate needs both the certificate and the key file")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Get implements Store, from the local index.
func (s *Etcd) Get(name string) (Entry, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return Entry{}, false, ErrClosed
	}
	e := s.index.get(name)
	if e == nil {
		return Entry{}, false, nil
	}
	return Entry{Name: e.name, URI: e.uri, Metadata: slices.Clone(e.md)}, true, nil
}

// Range implements Store, from the local index, in registration order.
func (s *Etcd) Range(prefix string, fn func(e Entry) bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	s.index.ascend(prefix, func(e *etcdEntry) bool { return fn(e.entry()) })
	return nil
}

// Count implements Store, from the local index.
func (s *Etcd) Count() (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	return s.index.byName.Len(), nil
}

// Close implements Store: it stops the watch and closes the client.
func (s *Etcd) Close() error {
	s.mu.Lock()
	was := s.closed.Swap(true)
	s.mu.Unlock()
	if was {
		return nil
	}
	s.cancel()
	s.wg.Wait()
	return s.cli.Close()
}

func (s *Etcd) key(name string) string { return s.names + name }

func (s *Etcd) name(key []byte) string { return string(key[len(s.names):]) }

// decode turns a key-value into an entry; a value this package did not
// write is reported and skipped rather than stopping the name space.
func (s *Etcd) decode(key, value []byte, create, mod int64) *etcdEntry {
	uri, md, err := decodeEtcdValue(value)
	if err != nil {
		s.log.Warn("etcd: skipping a key that is not a registration", "key", string(key), "err", err)
		return nil
	}
	return &etcdEntry{name: s.name(key), uri: uri, md: md, create: create, mod: mod}
}
