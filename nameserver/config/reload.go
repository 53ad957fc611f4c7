package config

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/persist"
)

// Target is what a reload may change in a running name server.
type Target interface {
	// SetStatic replaces the static registrations and reports what changed.
	SetStatic(entries []persist.Entry) (added, changed, removed []string, err error)
	// SetNAT changes the external location ("" host: no NAT; 0 port: the
	// bound port). An error means the location did not change.
	SetNAT(host string, port int) error
}

// ServerTarget makes a running server the target of reloads.
func ServerTarget(s *nameserver.Server) Target { return serverTarget{s} }

type serverTarget struct{ s *nameserver.Server }

func (t serverTarget) SetStatic(entries []persist.Entry) (added, changed, removed []string, err error) {
	return t.s.Registry().SetStatic(entries)
}

func (t serverTarget) SetNAT(host string, port int) error { return t.s.SetNAT(host, port) }

// DefaultDebounce is how long a Reloader lets a burst of file events settle
// before it reads the file.
const DefaultDebounce = 100 * time.Millisecond

// Reloader keeps a running name server in step with its configuration file.
//
// Load reads the file for startup; Bind hands over the server and applies
// the static registrations; Watch follows the file; Reload re-reads it at
// once (for SIGHUP). A change is applied as a difference: static
// registrations added, changed or removed, and the NAT location. Client
// registrations are never touched. A file that does not parse, or whose
// settings do not resolve, or whose NAT location the server refuses,
// changes nothing and is logged once. Settings a running server cannot
// change are logged as needing a restart, and settings the file changed
// that a flag or a PYRO_* item overrides are named as such. A removed file
// keeps the running configuration until the file is back.
type Reloader struct {
	Path string
	// Lookup resolves hmac_key_env; nil means os.LookupEnv.
	Lookup func(string) (string, bool)
	// Resolve layers a parsed file with the other sources of settings; nil
	// means the file over Pyro4's defaults.
	Resolve func(*Config) (Settings, error)
	// Logger receives one line per reload; nil discards.
	Logger *slog.Logger
	// Debounce is the settling time for file events; 0 means DefaultDebounce.
	Debounce time.Duration

	mu      sync.Mutex
	target  Target
	running Settings
	file    Settings          // what the file applied last sets, over the defaults alone
	sum     [sha256.Size]byte // of the contents last acted on
	missing bool
	checks  int // reads of the file after Bind, so tests can wait for one
}

func (r *Reloader) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// Load reads and resolves the file; the result becomes the running
// configuration.
func (r *Reloader) Load() (Settings, error) {
	data, err := os.ReadFile(r.Path)
	if err != nil {
		return Settings{}, fmt.Errorf("read config: %w", err)
	}
	s, file, err := r.settings(data)
	if err != nil {
		return Settings{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running, r.file, r.sum = s, file, sha256.Sum256(data)
	return s, nil
}

// settings parses data and returns the settings in effect with it and those
// the file alone sets over the defaults; where the two differ, a flag or an
// environment item overrides the file.
func (r *Reloader) settings(data []byte) (resolved, file Settings, err error) {
	c, err := Parse(r.Path, data, r.Lookup)
	if err != nil {
		return Settings{}, Settings{}, err
	}
	file = Defaults()
	c.Apply(&file)
	if r.Resolve == nil {
		return file, file, nil
	}
	resolved, err = r.Resolve(c)
	return resolved, file, err
}

// Bind makes t the server that reloads change, and gives it the static
// registrations of the running configuration.
func (r *Reloader) Bind(t Target) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = t
	if _, _, _, err := t.SetStatic(r.running.Static); err != nil {
		return fmt.Errorf("config %s: static registrations: %w", r.Path, err)
	}
	return nil
}

// Running returns the configuration in effect.
func (r *Reloader) Running() Settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}

// Reload reads the file now and applies it, even when it looks unchanged.
func (r *Reloader) Reload() { r.check(true, false) }

// check reads the file and applies it when its contents differ from those
// last acted on (or always, with force). An empty file is most likely one
// being rewritten in place (truncated, not yet written), so unless settled
// says the events have had time to finish, check leaves it and asks to be
// called again.
func (r *Reloader) check(force, settled bool) (again bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.target == nil {
		return false
	}
	r.checks++
	data, err := os.ReadFile(r.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !r.missing {
			r.log().Warn(fmt.Sprintf("config %s was removed; keeping the running configuration until it is back", r.Path))
		}
		r.missing = true
		return false
	case err != nil:
		r.log().Error(fmt.Sprintf("config %s not applied, keeping the running configuration: %v", r.Path, err))
		return false
	}
	sum := sha256.Sum256(data)
	if sum == r.sum && !force && !r.missing {
		return false
	}
	if len(data) == 0 && !force && !settled {
		return true
	}
	r.missing, r.sum = false, sum
	next, file, err := r.settings(data)
	if err != nil {
		r.log().Error(fmt.Sprintf("config not applied, keeping the running configuration: %v", err))
		return false
	}
	r.apply(next, file)
	return false
}

// checkCount returns how many times the file has been read for a reload;
// a call that returns n happens after the nth read has been acted on.
func (r *Reloader) checkCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checks
}

// apply makes next the running configuration as far as a running server
// allows; file is what the file alone sets. Either every live change is made
// or none. r.mu is held.
func (r *Reloader) apply(next, file Settings) {
	natChanged := next.NATHost != r.running.NATHost || next.NATPort != r.running.NATPort
	if natChanged {
		if err := r.target.SetNAT(next.NATHost, next.NATPort); err != nil {
			r.log().Error(fmt.Sprintf("config %s not applied, keeping the running configuration: nat: %v", r.Path, err))
			return
		}
	}
	added, changed, removed, err := r.target.SetStatic(next.Static)
	if err != nil {
		if natChanged {
			// The running location was accepted once, so it is again.
			if nerr := r.target.SetNAT(r.running.NATHost, r.running.NATPort); nerr != nil {
				err = errors.Join(err, fmt.Errorf("restoring the NAT location: %w", nerr))
			}
		}
		r.log().Error(fmt.Sprintf("config %s not applied, keeping the running configuration: static registrations: %v", r.Path, err))
		return
	}
	var parts []string
	for _, c := range []struct {
		what  string
		names []string
	}{{"added", added}, {"changed", changed}, {"removed", removed}} {
		if len(c.names) > 0 {
			parts = append(parts, c.what+" "+strings.Join(c.names, ", "))
		}
	}
	if natChanged {
		parts = append(parts, natText(next.NATHost, next.NATPort))
	}
	restart := NeedRestart(r.running, next)
	overridden := Overridden(r.file, file, next)
	r.running.Static = next.Static
	r.running.NATHost, r.running.NATPort = next.NATHost, next.NATPort
	r.file = file
	switch {
	case len(parts) > 0:
		r.log().Info(fmt.Sprintf("config %s reloaded: %s", r.Path, strings.Join(parts, "; ")))
	case len(restart) == 0 && len(overridden) == 0:
		r.log().Info(fmt.Sprintf("config %s reloaded: no changes", r.Path))
	}
	if len(overridden) > 0 {
		r.log().Warn(fmt.Sprintf("config %s: %s changed in the file, but the command line or environment setting stays in effect", r.Path, strings.Join(overridden, ", ")))
	}
	if len(restart) > 0 {
		r.log().Warn(fmt.Sprintf("config %s: %s changed: needs a restart", r.Path, strings.Join(restart, ", ")))
	}
}

func natText(host string, port int) string {
	switch {
	case host == "":
		return "NAT off"
	case port == 0:
		return "NAT " + host + " (at the bound port)"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "NAT " + host + ":" + strconv.Itoa(port)
}

// watchDir watches the directory of the file and returns the test of
// whether an event there concerns the file.
func (r *Reloader) watchDir() (*fsnotify.Watcher, func(fsnotify.Event) bool, error) {
	abs, err := filepath.Abs(r.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("watch config %s: %w", r.Path, err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, nil, fmt.Errorf("watch config %s: %w", r.Path, err)
	}
	dir, base := filepath.Split(abs)
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("watch config directory %s: %w", dir, err)
	}
	// A file that is a symbolic link changes when its target (or a link on
	// the way, as in a Kubernetes ConfigMap) is swapped, under other names.
	fi, err := os.Lstat(abs)
	anyName := err == nil && fi.Mode()&fs.ModeSymlink != 0
	return w, func(ev fsnotify.Event) bool { return anyName || filepath.Base(ev.Name) == base }, nil
}

// Watch follows the file until ctx is done. It watches the file's directory,
// not the file, so that an editor that saves by writing a new file and
// renaming it over the old one is seen, as is a removal and re-creation.
// Events are settled for Debounce before the file is read.
func (r *Reloader) Watch(ctx context.Context) error {
	w, concerns, err := r.watchDir()
	if err != nil {
		return err
	}
	defer w.Close()
	debounce := r.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	var timer *time.Timer
	var fire <-chan time.Time
	settled := false // the pending read is a second look at an empty file
	arm := func() {
		timer = time.NewTimer(debounce)
		fire = timer.C
	}
	// The file may have changed between Load and the watch.
	if r.check(false, false) {
		arm()
		settled = true
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !concerns(ev) {
				continue
			}
			// The first event starts the clock and later ones join it: a
			// steady stream of events cannot postpone the read forever.
			if fire == nil {
				arm()
				settled = false
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			r.log().Warn(fmt.Sprintf("watching config %s: %v", r.Path, err))
		case <-fire:
			fire = nil
			if r.check(false, settled) {
				arm()
				settled = true
			}
		}
	}
}
