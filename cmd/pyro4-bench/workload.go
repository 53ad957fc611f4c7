package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pyro4/pyro4/wire"
)

const nsObject = "Pyro.NameServer"

// Names are grouped by the list size so that a prefix selects exactly one
// group: bench.m<match>.g<group>.<index>. The match size is part of the
// name, so sets registered for different list sizes never overlap.
func benchName(match, i int) string   { return fmt.Sprintf("bench.m%d.g%05d.%07d", match, i/match, i) }
func benchPrefix(match, g int) string { return fmt.Sprintf("bench.m%d.g%05d.", match, g) }
func benchURI(i int) string           { return fmt.Sprintf("PYRO:obj_%07d@127.0.0.1:9999", i) }

// benchRoot is the prefix of every name the setup registers.
const benchRoot = "bench."

// maxPrebuilt bounds the lookups serialized ahead of a run; lookups cycle
// over the first maxPrebuilt names when there are more.
const maxPrebuilt = 1 << 16

// workload says how a client builds its requests and checks the replies.
type workload struct {
	// persistent clients connect once; the others connect per operation.
	persistent bool
	// next returns the serialized call for a client's nth operation, and a
	// key that check gets to know what the answer should be.
	next func(client int, n uint64) (data []byte, key int, err error)
	// check verifies a decoded reply: the first of each connection, or
	// every one with -verify.
	check func(key int, v wire.Value) error
}

func marshalCall(codec wire.Codec, method string, args []wire.Value, kwargs *wire.Dict) ([]byte, error) {
	data, err := wire.MarshalCall(codec, wire.Call{Object: nsObject, Method: method, Args: args, Kwargs: kwargs})
	if err != nil {
		return nil, fmt.Errorf("serialize %s call: %w", method, err)
	}
	return data, nil
}

// lookupCalls serializes lookup(name) for the first names.
func lookupCalls(cfg *loadConfig) ([][]byte, error) {
	reqs := make([][]byte, min(cfg.Names, maxPrebuilt))
	for i := range reqs {
		data, err := marshalCall(cfg.codec, "lookup", []wire.Value{benchName(cfg.Match, i)}, nil)
		if err != nil {
			return nil, err
		}
		reqs[i] = data
	}
	return reqs, nil
}

// spread starts the clients at different places in a sequence.
func spread(client int, n uint64, size int) int {
	return int((uint64(client)*7919 + n) % uint64(size))
}

func checkURI(v wire.Value) (string, error) {
	u, err := wire.URIFromValue(v)
	if err != nil {
		return "", fmt.Errorf("reply is not a URI: %v", err)
	}
	return u.String(), nil
}

// newWorkload builds the workload of cfg.Mode.
func newWorkload(cfg *loadConfig) (*workload, error) {
	switch cfg.Mode {
	case "lookup", "churn", "echo", "echo-churn":
		reqs, err := lookupCalls(cfg)
		if err != nil {
			return nil, err
		}
		w := &workload{
			persistent: cfg.Mode != "churn" && cfg.Mode != "echo-churn",
			next: func(client int, n uint64) ([]byte, int, error) {
				i := spread(client, n, len(reqs))
				return reqs[i], i, nil
			},
			check: func(key int, v wire.Value) error {
				got, err := checkURI(v)
				if err == nil && !isEcho(cfg.Mode) && got != benchURI(key) {
					err = fmt.Errorf("lookup %s gave %s, want %s", benchName(cfg.Match, key), got, benchURI(key))
				}
				return err
			},
		}
		return w, nil
	case "list":
		return listWorkload(cfg)
	case "register":
		return registerWorkload(cfg)
	}
	return nil, fmt.Errorf("unknown mode %q", cfg.Mode)
}

func listWorkload(cfg *loadConfig) (*workload, error) {
	groups := cfg.Names / cfg.Match
	reqs := make([][]byte, min(groups, maxPrebuilt))
	for g := range reqs {
		data, err := marshalCall(cfg.codec, "list", []wire.Value{benchPrefix(cfg.Match, g)}, nil)
		if err != nil {
			return nil, err
		}
		reqs[g] = data
	}
	return &workload{
		persistent: true,
		next: func(client int, n uint64) ([]byte, int, error) {
			g := spread(client, n, len(reqs))
			return reqs[g], g, nil
		},
		check: func(g int, v wire.Value) error {
			d, ok := v.(*wire.Dict)
			if !ok {
				return fmt.Errorf("list reply is %s, want dict", wire.TypeName(v))
			}
			if d.Len() != cfg.Match {
				return fmt.Errorf("list(%q) returned %d names, want %d", benchPrefix(cfg.Match, g), d.Len(), cfg.Match)
			}
			for _, it := range d.Items {
				if k, _ := it.Key.(string); !strings.HasPrefix(k, benchPrefix(cfg.Match, g)) {
					return fmt.Errorf("list(%q) returned %v", benchPrefix(cfg.Match, g), it.Key)
				}
			}
			return nil
		},
	}, nil
}

// registerPrefix holds the names of one register run, removed at its end.
func registerPrefix(runID string) string { return "benchreg." + runID + "." }

func newRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func registerWorkload(cfg *loadConfig) (*workload, error) {
	prefix := registerPrefix(cfg.runID)
	uri := benchURI(0)
	return &workload{
		persistent: true,
		next: func(client int, n uint64) ([]byte, int, error) {
			name := fmt.Sprintf("%s%d.%d", prefix, client, n)
			data, err := marshalCall(cfg.codec, "register", []wire.Value{name, uri}, nil)
			return data, 0, err
		},
		check: func(_ int, v wire.Value) error {
			if v != nil {
				return fmt.Errorf("register returned %s, want None", wire.Repr(v))
			}
			return nil
		},
	}, nil
}
