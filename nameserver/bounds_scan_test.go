package nameserver

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// slowPattern costs Go's linear-time engine about a millisecond per short
// name. Its minimum match length is one byte, so the engine cannot skip a
// name as too short for it (as it would (.*a){300}x).
const slowPattern = `(.*a?){300}x`

// slowStores are the stores a slow scan must not stall.
func slowStores(t *testing.T) map[string]func(t *testing.T) persist.Store {
	return map[string]func(t *testing.T) persist.Store{
		"memory": func(t *testing.T) persist.Store { return persist.NewMemory() },
		"bolt": func(t *testing.T) persist.Store {
			b, err := persist.OpenBolt(filepath.Join(t.TempDir(), "ns.db"), persist.BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		},
	}
}

// fillSlow registers n names of about 40 bytes, in parallel so that the
// bolt store shares its commits.
func fillSlow(t *testing.T, store persist.Store, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				name := slowName(i)
				if err := store.Put(persist.Entry{Name: name, URI: "PYRO:obj@127.0.0.1:5000"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// slowName is the i-th name fillSlow registers: long enough (about 100
// bytes) that slowPattern takes a while on each.
func slowName(i int) string {
	return fmt.Sprintf("slow.scan.department.%s.entry.%06d", strings.Repeat("b", 64), i)
}

// estimateScan is how long slowPattern would take over n names like
// fillSlow's, from timing it on one of them.
func estimateScan(t *testing.T, n int) time.Duration {
	re, err := compilePython(slowPattern)
	if err != nil {
		t.Fatal(err)
	}
	name := slowName(1)
	start := time.Now()
	for range 20 {
		re.MatchString(name)
	}
	return time.Since(start) / 20 * time.Duration(n)
}

// TestSlowScanStallsNoOne: while a list(regex=...) or remove(regex=...)
// that would run for half a minute or more goes on, other clients'
// registers and lookups are answered at once, on every store; the scan
// itself ends at scan_timeout with a NamingError naming the limit, and a
// removal that ran out of time removes nothing.
func TestSlowScanStallsNoOne(t *testing.T) {
	const names = 30000
	const timeout = 3 * time.Second
	if est := estimateScan(t, names); est < 10*timeout {
		t.Fatalf("the scan would take only %v; the test needs one of at least %v", est, 10*timeout)
	}
	for storeName, open := range slowStores(t) {
		for _, method := range []string{"list", "remove"} {
			t.Run(storeName+"/"+method, func(t *testing.T) {
				store := open(t)
				fillSlow(t, store, names)
				s := startServer(t, Options{NoBroadcast: true, Store: store, ScanTimeout: timeout})
				scanner := dialTest(t, s, "serpent")
				scanner.connect(NameServerName)
				other := dialTest(t, s, "serpent")
				other.connect(NameServerName)

				type result struct {
					err     error
					elapsed time.Duration
				}
				done := make(chan result, 1)
				go func() {
					start := time.Now()
					var err error
					if method == "list" {
						_, err = scanner.call(NameServerName, "list", nil, slowPattern)
					} else {
						_, err = scanner.call(NameServerName, "remove", nil, nil, slowPattern)
					}
					done <- result{err, time.Since(start)}
				}()
				time.Sleep(200 * time.Millisecond) // the scan is under way

				var took []time.Duration
				for i := range 20 {
					start := time.Now()
					if _, err := other.call(NameServerName, "register", fmt.Sprintf("during.scan.%d", i), "PYRO:x@127.0.0.1:1"); err != nil {
						t.Fatalf("register during the scan: %v", err)
					}
					if _, err := other.call(NameServerName, "lookup", slowName(7)); err != nil {
						t.Fatalf("lookup during the scan: %v", err)
					}
					took = append(took, time.Since(start))
				}
				select {
				case r := <-done:
					t.Fatalf("the scan ended (after %v, %v) before the other calls did; nothing was shown", r.elapsed, r.err)
				default:
				}
				slices.Sort(took)
				if med, worst := took[len(took)/2], took[len(took)-1]; med > 100*time.Millisecond || worst > time.Second {
					t.Errorf("register+lookup during the scan took median %v, worst %v; want under 100ms and 1s (the scan's deadline is %v)", med, worst, timeout)
				}

				var r result
				select {
				case r = <-done:
				case <-time.After(timeout + 10*time.Second):
					t.Fatalf("the scan did not end within %v of its deadline", 10*time.Second)
				}
				x, ok := r.err.(*wire.Exception)
				if !ok || x.Class != wire.ClassNamingError || !strings.Contains(x.Message, "scan_timeout of 3s") {
					t.Fatalf("scan result: %v, want NamingError naming scan_timeout of 3s", r.err)
				}
				if r.elapsed > timeout+2*time.Second {
					t.Errorf("the scan ended after %v, its deadline is %v", r.elapsed, timeout)
				}
				if n, err := store.Count(); err != nil || n != names+20+1 {
					t.Errorf("store holds %d names (%v), want %d: a scan that ran out of time removes nothing", n, err, names+20+1)
				}
			})
		}
	}
}

// TestRemoveKeepsWhatChangedMeanwhile: remove(regex=...) removes exactly
// the entries it chose on its snapshot; one re-registered with another URI
// between the choice and the removal stays (it is newer than the removal).
func TestRemoveKeepsWhatChangedMeanwhile(t *testing.T) {
	for storeName, open := range slowStores(t) {
		t.Run(storeName, func(t *testing.T) {
			store := open(t)
			reg := NewRegistry(store)
			for _, n := range []string{"a.1", "a.2", "a.3", "b.1"} {
				if err := store.Put(persist.Entry{Name: n, URI: "PYRO:old@h:1"}); err != nil {
					t.Fatal(err)
				}
			}
			re, _ := compilePython(`a\.`)
			match := func(name string) bool {
				if name == "a.3" {
					// a client re-registers a.3 while the removal is choosing
					if err := store.Put(persist.Entry{Name: "a.3", URI: "PYRO:new@h:1"}); err != nil {
						t.Error(err)
					}
				}
				return re.MatchString(name)
			}
			removed, err := reg.removeScanned("", match, callLimits{}.newScan("remove(regex=...)"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(removed, []string{"a.1", "a.2"}) {
				t.Errorf("removed %q, want a.1 and a.2", removed)
			}
			e, ok, _ := store.Get("a.3")
			if !ok || e.URI != "PYRO:new@h:1" {
				t.Errorf("a.3 is %+v (found %v), want the new registration kept", e, ok)
			}
		})
	}
}
