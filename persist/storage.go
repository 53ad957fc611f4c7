package persist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Storage is a parsed storage specification, the name server's -s option.
type Storage struct {
	// Kind is "memory", "bolt", "sql" or "etcd".
	Kind string
	// Path is the file of a bolt or sql store, the comma-separated client
	// URLs of an etcd store (see Endpoints); empty for memory.
	Path string
}

// Endpoints returns the etcd client URLs of an etcd store.
func (s Storage) Endpoints() []string {
	if s.Kind != "etcd" {
		return nil
	}
	return strings.Split(s.Path, ",")
}

// String returns the specification in the form ParseStorage reads.
func (s Storage) String() string {
	if s.Path != "" {
		return s.Kind + ":" + s.Path
	}
	return s.Kind
}

// ParseStorage reads a storage specification: "memory" (or "", as Pyro4
// defaults to it), "bolt:FILE", "sql:FILE" (Pyro4's sqlite store, in its
// schema) or "etcd:ENDPOINTS". Pyro4's "dbm:FILE" gets an error naming
// `pyro4 migrate`, which copies such a file, and the file is not touched.
// Anything else is refused as Pyro4 refuses it.
func ParseStorage(spec string) (Storage, error) {
	kind, path, _ := strings.Cut(spec, ":")
	switch {
	case spec == "" || spec == "memory":
		return Storage{Kind: "memory"}, nil
	case kind == "bolt" && path != "":
		return Storage{Kind: "bolt", Path: path}, nil
	case kind == "etcd" && path != "":
		return parseEtcdStorage(spec, path)
	case kind == "sql" && path != "":
		return Storage{Kind: "sql", Path: path}, nil
	case kind == "dbm" && path != "":
		return Storage{}, fmt.Errorf("storage '%s' is Pyro4's dbm store, which this name server does not serve; copy its registrations into a store it serves with: pyro4 migrate %s bolt:FILE (or sql:FILE)", spec, spec)
	}
	return Storage{}, fmt.Errorf("%w '%s'", ErrInvalidSpec, spec)
}

// ErrInvalidSpec is wrapped by the error for a storage specification of no
// known form (a usage error), as against a known one that is refused.
var ErrInvalidSpec = errors.New("invalid storage type")

// parseEtcdStorage reads the endpoint list of "etcd:ENDPOINT[,ENDPOINT...]".
func parseEtcdStorage(spec, list string) (Storage, error) {
	eps := strings.Split(list, ",")
	for i, ep := range eps {
		eps[i] = strings.TrimSpace(ep)
		if eps[i] == "" {
			return Storage{}, fmt.Errorf("%w '%s': empty etcd endpoint", ErrInvalidSpec, spec)
		}
	}
	return Storage{Kind: "etcd", Path: strings.Join(eps, ",")}, nil
}

// defaultEtcdOpenTimeout bounds Storage.Open's wait for an unreachable etcd;
// OpenEtcd takes a context instead.
const defaultEtcdOpenTimeout = time.Minute

// Open opens the store s names, a bolt store with the default options.
func (s Storage) Open() (Store, error) {
	switch s.Kind {
	case "memory":
		return NewMemory(), nil
	case "bolt":
		b, err := OpenBolt(s.Path, BoltOptions{})
		if err != nil {
			return nil, err
		}
		return b, nil
	case "sql":
		q, err := OpenSQL(s.Path)
		if err != nil {
			return nil, err
		}
		return q, nil
	case "etcd":
		ctx, cancel := context.WithTimeout(context.Background(), defaultEtcdOpenTimeout)
		defer cancel()
		e, err := OpenEtcd(ctx, EtcdOptions{Endpoints: s.Endpoints()})
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	return nil, fmt.Errorf("invalid storage type '%s'", s.Kind)
}

// Open parses spec with ParseStorage and opens the store it names.
func Open(spec string) (Store, error) {
	s, err := ParseStorage(spec)
	if err != nil {
		return nil, err
	}
	return s.Open()
}
