package locator

import (
	"testing"

	"github.com/pyro4/pyro4/wire"
)

// BenchmarkInvoke is one call's round trip on loopback against a scripted
// daemon: client framing, serpent encoding and reply decoding.
func BenchmarkInvoke(b *testing.B) {
	codec := serpent(b)
	uri := startFake(b, &fakeDaemon{reply: func(m *wire.Message, c wire.Call) *wire.Message {
		return result(b, codec, m, "PYRO:obj@host:5000", 0)
	}})
	c := dialFake(b, uri, Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Invoke("lookup", []wire.Value{"name"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
