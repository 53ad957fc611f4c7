package persist

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashChildEnv names the store (KIND:PATH) a re-executed test binary
// writes to until it is killed; see TestCrashDurability.
const crashChildEnv = "PERSIST_CRASH_CHILD_STORE"

// crashOpen opens a store of one of the file-backed kinds.
func crashOpen(kind, path string) (Store, error) {
	if kind == "sql" {
		return OpenSQL(path)
	}
	return OpenBolt(path, BoltOptions{})
}

// TestCrashDurability checks the promise that a write acknowledged by a
// bolt or sql store survives the process dying at once afterwards. A child
// process (this test binary again) puts, sets metadata and deletes from
// several goroutines and prints every operation that returned nil; the
// parent kills it with SIGKILL in the middle of the burst, reopens the file
// and checks that each name is in the state of its last acknowledged
// operation (or of the one in flight, which may or may not have committed).
func TestCrashDurability(t *testing.T) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		kind, path, _ := strings.Cut(spec, ":")
		crashChild(kind, path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	for _, kind := range []string{"bolt", "sql"} {
		t.Run(kind, func(t *testing.T) { testCrashDurability(t, kind) })
	}
}

func testCrashDurability(t *testing.T, kind string) {
	path := filepath.Join(t.TempDir(), "ns.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+kind+":"+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	// Kill the child from a timer as well, so that a stuck child cannot
	// hang the test.
	watchdog := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer watchdog.Stop()

	killAfter := 600
	if kind == "sql" {
		killAfter = 150 // one sync per write: fewer in the same time
	}
	acked := make(map[string]string) // name -> last acknowledged operation
	ops := map[string]int{}
	r := bufio.NewReader(out)
	for n := 0; ; {
		// A line the kill cut short has no newline and is not an
		// acknowledgement; the lines read after the kill were written
		// before it and count.
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		op, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if !ok || crashFollowUp(name) == "" {
			continue
		}
		acked[name] = op
		ops[op]++
		if n++; n == killAfter {
			// While the child runs, the file is locked against this process.
			if s, err := crashOpen(kind, path); !errors.Is(err, ErrInUse) {
				if err == nil {
					s.Close()
				}
				t.Errorf("opening the store while the child has it: %v, want ErrInUse", err)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitErr := cmd.Wait()
	killed = true
	if n := ops["put"] + ops["meta"] + ops["del"]; n < killAfter || ops["meta"] == 0 || ops["del"] == 0 {
		t.Fatalf("child acknowledged only %v (wait: %v)", ops, waitErr)
	}
	if waitErr == nil {
		t.Fatal("child exited normally; it should have been killed mid-burst")
	}

	s, err := crashOpen(kind, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	present := 0
	for name, op := range acked {
		e, ok := mustGet(t, s, name)
		got := crashState(e, ok)
		if got == op || op == "put" && got == crashFollowUp(name) {
			if ok {
				present++
			}
			continue
		}
		t.Errorf("%s: last acknowledged %q, but the store holds %s", name, op, got)
	}
	n, err := s.Count()
	if err != nil {
		t.Fatal(err)
	}
	if listed := len(rangeNames(t, s, "")); n != listed || n < present {
		t.Fatalf("Count() = %d, Range lists %d, %d acknowledged names present", n, listed, present)
	}
	t.Logf("acknowledged before the kill: %v; %d entries in the store after it", ops, n)
}

// crashFollowUp is the operation the child does on name after putting it:
// "put" (none), "meta" or "del"; "" for a name the child does not write.
func crashFollowUp(name string) string {
	var g, i int
	if _, err := fmt.Sscanf(name, "crash.%d.%05d", &g, &i); err != nil {
		return ""
	}
	return [...]string{"put", "meta", "del"}[i%3]
}

// crashState names the state an entry is in by the operation that leaves it
// so.
func crashState(e Entry, ok bool) string {
	switch {
	case !ok:
		return "del"
	case e.URI == crashURI && slices.Equal(e.Metadata, []string{"m"}):
		return "put"
	case e.URI == crashURI && slices.Equal(e.Metadata, []string{"changed", "m2"}):
		return "meta"
	}
	return fmt.Sprintf("%+v", e)
}

const crashURI = "PYRO:obj@localhost:9999"

// crashChild writes until killed, printing each acknowledged operation as
// "put NAME", "meta NAME" or "del NAME". It is bounded so that an orphaned
// child stops on its own.
func crashChild(kind, path string) {
	s, err := crashOpen(kind, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	ack := func(op, name string, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, op, name, err)
			os.Exit(2)
		}
		// Flush at once: an acknowledgement must not sit in a buffer when
		// the kill comes, or the parent would test less than it could.
		mu.Lock()
		fmt.Fprintf(w, "%s %s\n", op, name)
		w.Flush()
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20000 {
				name := fmt.Sprintf("crash.%d.%05d", g, i)
				ack("put", name, s.Put(Entry{Name: name, URI: crashURI, Metadata: []string{"m"}}))
				switch crashFollowUp(name) {
				case "meta":
					ack("meta", name, s.SetMetadata(name, []string{"m2", "changed"}))
				case "del":
					ok, err := s.Delete(name)
					if err == nil && !ok {
						err = errors.New("Delete found nothing")
					}
					ack("del", name, err)
				}
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
