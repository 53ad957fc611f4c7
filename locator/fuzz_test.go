package locator

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
)

// FuzzDecodeReply feeds arbitrary bytes through everything a client does
// with a server's reply: framing, handshake or result checks, decompression,
// decoding, exception recognition and the typed conversions of NameServer.
// The seeds (testdata/fuzz/FuzzDecodeReply) are replies packed by Pyro4
// 4.82 itself, made by testdata/gen_fuzz_seeds.py.
func FuzzDecodeReply(f *testing.F) {
	const maxSize = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.Unpack(b, wire.Limits{MaxSize: maxSize})
		if err != nil {
			return
		}
		codec, ok := wire.CodecByID(m.SerializerID)
		if !ok {
			codec = serpent(t)
		}
		if m.Type == wire.MsgConnectOK || m.Type == wire.MsgConnectFail {
			c := &Conn{codec: codec, opts: Options{MaxMessageSize: maxSize}}
			_ = c.handshakeReply(m)
			return
		}
		v, err := decodeReply(m, codec, m.Seq, maxSize)
		if err != nil {
			return
		}
		_, _ = entriesFromValue(v)
		_, _ = wire.URIFromValue(v)
		_, _ = intResult("count", v)
		if pair, ok := pairOf(v); ok {
			_, _ = wire.URIFromValue(pair[0])
			_, _ = wire.Strings(pair[1])
		}
		if items, ok := v.(wire.List); ok {
			for _, it := range items {
				_, _ = batchException(it)
			}
		}
	})
}

// TestSeedRepliesDecode checks that the Python-made seeds are what they
// claim to be, so the fuzzer starts from real replies.
func TestSeedRepliesDecode(t *testing.T) {
	tests := []struct {
		name  string
		check func(t *testing.T, v wire.Value, err error)
	}{
		{"list_serpent", checkListing},
		{"list_json", checkListing},
		{"list_compressed", func(t *testing.T, v wire.Value, err error) {
			es, err2 := entriesFromValue(v)
			if err != nil || err2 != nil || len(es) != 40 || es[39].URI != "PYRO:o39@host:39" {
				t.Fatalf("%v %v %+v", err, err2, es)
			}
		}},
		{"lookup_uri", func(t *testing.T, v wire.Value, err error) {
			u, err2 := wire.URIFromValue(v)
			if err != nil || err2 != nil || u.String() != "PYRO:obj@[::1]:5000" {
				t.Fatalf("%v %v %v", err, err2, u)
			}
		}},
		{"exception", func(t *testing.T, v wire.Value, err error) {
			r, ok := err.(*remoteError)
			if !ok || r.e.Class != wire.ClassNamingError || r.e.Text() != "unknown name: x" || len(r.e.Traceback()) != 2 {
				t.Fatalf("%v", err)
			}
		}},
		{"batch", func(t *testing.T, v wire.Value, err error) {
			l, _ := v.(wire.List)
			if err != nil || len(l) != 3 {
				t.Fatalf("%v %s", err, wire.Repr(v))
			}
			if e, ok := batchException(l[2]); !ok || e.Class != wire.ClassNamingError {
				t.Fatalf("batch exception %v", e)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := readSeed(t, tt.name)
			codec, ok := wire.CodecByID(m.SerializerID)
			if !ok {
				t.Fatalf("no codec %d", m.SerializerID)
			}
			v, err := decodeReply(m, codec, 7, 0)
			tt.check(t, v, err)
		})
	}
}

func checkListing(t *testing.T, v wire.Value, err error) {
	t.Helper()
	es, err2 := entriesFromValue(v)
	if err != nil || err2 != nil || len(es) != 2 || es[1].Name != "a" || es[1].URI != "PYRO:a@h:1" || len(es[1].Metadata) != 2 {
		t.Fatalf("%v %v %+v", err, err2, es)
	}
}

// readSeed reads a corpus file: "go test fuzz v1" and one []byte("...") line.
func readSeed(t *testing.T, name string) *wire.Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzDecodeReply", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("seed %s: not a corpus file", name)
	}
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")")
	s, err := strconv.Unquote(lit)
	if !ok || !ok2 || err != nil {
		t.Fatalf("seed %s: %v", name, err)
	}
	m, err := wire.Unpack([]byte(s), wire.Limits{})
	if err != nil {
		t.Fatalf("seed %s: %v", name, err)
	}
	return m
}
