//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it.

package serpent

import (
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// The name server decodes a call and encodes a reply per request: these
// budgets keep the serpent hot paths from regressing to per-byte or
// per-parse allocations.
func TestSerpentAllocBudget(t *testing.T) {
	call, err := wire.MarshalCall(codec{}, wire.Call{Object: "Pyro.NameServer", Method: "lookup", Args: []wire.Value{"example.greeting"}})
	if err != nil {
		t.Fatal(err)
	}
	// the arg's bytes and box, the args tuple and its box, the outer tuple
	// and its box, the kwargs dict; the object id and method are interned
	if n := testing.AllocsPerRun(100, func() { _, _ = wire.UnmarshalCall(codec{}, call) }); n > 7 {
		t.Errorf("decoding a lookup call: %v allocations, want at most 7", n)
	}
	reply := codectest.BenchList1000()
	buf := make([]byte, 0, 128<<10)
	if n := testing.AllocsPerRun(20, func() { _, _ = codec{}.AppendMarshal(buf[:0], reply) }); n > 0 {
		t.Errorf("appending a 1000-entry dict: %v allocations, want none", n)
	}
}
