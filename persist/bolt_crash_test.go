package persist

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashChildEnv names the store a re-executed test binary writes to until
// it is killed; see TestBoltCrashDurability.
const crashChildEnv = "PERSIST_CRASH_CHILD_STORE"

// TestBoltCrashDurability checks the promise that a write acknowledged by
// the bolt store survives the process dying at once afterwards. A child
// process (this test binary again) writes from several goroutines and prints
// every name whose Put returned nil; the parent kills it with SIGKILL in
// the middle of the burst, reopens the file and looks for every name.
func TestBoltCrashDurability(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "ns.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestBoltCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
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

	const killAfter = 300
	acked := make(map[string]bool)
	r := bufio.NewReader(out)
	for {
		// A line the kill cut short has no newline and is not an
		// acknowledgement; the lines read after the kill were written
		// before it and count.
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		name, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "ack ")
		if !ok {
			continue
		}
		acked[name] = true
		if len(acked) == killAfter {
			// While the child runs, the file is locked against this process.
			if s, err := OpenBolt(path, BoltOptions{}); !errors.Is(err, ErrInUse) {
				if err == nil {
					s.Close()
				}
				t.Errorf("OpenBolt while the child has the store: %v, want ErrInUse", err)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitErr := cmd.Wait()
	killed = true
	if len(acked) < killAfter {
		t.Fatalf("child acknowledged only %d writes (wait: %v)", len(acked), waitErr)
	}
	if waitErr == nil {
		t.Fatal("child exited normally; it should have been killed mid-burst")
	}

	s := openBolt(t, path)
	defer s.Close()
	var missing []string
	for name := range acked {
		if _, ok := mustGet(t, s, name); !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged writes lost, e.g. %q", len(missing), len(acked), missing[0])
	}
	n, err := s.Count()
	if err != nil {
		t.Fatal(err)
	}
	if listed := len(rangeNames(t, s, "")); n != listed || n < len(acked) {
		t.Fatalf("Count() = %d, Range lists %d, %d acknowledged", n, listed, len(acked))
	}
	t.Logf("%d writes acknowledged before the kill, %d in the store after it", len(acked), n)
}

// crashChild writes until killed, printing each acknowledged name. It is
// bounded so that an orphaned child stops on its own.
func crashChild(path string) {
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20000 {
				name := fmt.Sprintf("crash.%d.%05d", g, i)
				if err := s.Put(Entry{Name: name, URI: "PYRO:obj@localhost:9999", Metadata: []string{"m"}}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				// Flush at once: an acknowledgement must not sit in a buffer
				// when the kill comes, or the parent would test less than it
				// could.
				mu.Lock()
				fmt.Fprintf(w, "ack %s\n", name)
				w.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
