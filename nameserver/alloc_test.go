//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it.

package nameserver

import "testing"

// TestLookupAllocBudget holds a lookup's whole request path, measured
// across the process while the client allocates nothing, to the count
// docs/bench.md reports: the serpent call's 7 (TestSerpentAllocBudget), the
// bound argument slice, and the store's copy of the entry's metadata.
func TestLookupAllocBudget(t *testing.T) {
	for _, tc := range []struct {
		label string
		opts  Options
	}{
		{"plain", Options{NoBroadcast: true}},
		{"with metrics and change callback", observedOptions()},
	} {
		t.Run(tc.label, func(t *testing.T) {
			s, req := lookupServerWith(t, tc.opts)
			conn, err := dialHandshake(s)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			c := newClientConn(conn)
			for range 10 { // warm the URI value cache, the buffers and the metric series
				if err := c.roundTrip(req); err != nil {
					t.Fatal(err)
				}
			}
			n := testing.AllocsPerRun(200, func() {
				if err := c.roundTrip(req); err != nil {
					t.Fatal(err)
				}
			})
			if n > 9 {
				t.Errorf("a lookup allocates %v times, want at most 9", n)
			}
		})
	}
}
