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
	// Over are the layers over the file, lowest first: the PYRO_*
	// environment, then the flags.
	Over []Layer
	// Logger receives one line per reload; nil discards.
	Logger *slog.Logger
	// Debounce is the settling time for file events; 0 means DefaultDebounce.
	Debounce time.Duration
	// Reloaded, when set, is told of each reload that read the file after
	// Bind: whether it applied (for pyro4_ns_config_reloads_total). It runs
	// with the reloader's lock held.
	Reloaded func(ok bool)

	mu      sync.Mutex
	target  Target
	running Resolved
	file    Layer             // what the file applied last sets
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
func (r *Reloader) Load() (Resolved, error) {
	data, err := os.ReadFile(r.Path)
	if err != nil {
		return Resolved{}, fmt.Errorf("read config: %w", err)
	}
	res, file, err := r.settings(data)
	if err != nil {
		return Resolved{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running, r.file, r.sum = res, file, sha256.Sum256(data)
	return res, nil
}

// settings parses data and returns the settings in effect with it and the
// file's own layer.
func (r *Reloader) settings(data []byte) (Resolved, Layer, error) {
	c, err := Parse(r.Path, data, r.Lookup)
	if err != nil {
		return Resolved{}, Layer{}, err
	}
	file := c.Layer()
	res, err := Resolve(ForServer, append([]Layer{file}, r.Over...)...)
	return res, file, err
}

// Bind makes t the server that reloads change, and gives it the static
// registrations of the running configuration.
func (r *Reloader) Bind(t Target) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = t
	if _, _, _, err := t.SetStatic(r.running.l.Static.V); err != nil {
		return fmt.Errorf("config %s: static registrations: %w", r.Path, err)
	}
	return nil
}

// Running returns the configuration in effect.
func (r *Reloader) Running() Settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running.Settings()
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
	log := r.log().With("config", r.Path)
	data, err := os.ReadFile(r.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Said once per removal, and again on a forced reload (SIGHUP),
		// which otherwise would do nothing visible.
		if !r.missing || force {
			log.Warn("config file is missing; keeping the running configuration until it is back")
		}
		r.missing = true
		return false
	case err != nil:
		log.Error("config not applied, keeping the running configuration", "err", err)
		r.reloaded(false)
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
		log.Error("config not applied, keeping the running configuration", "err", err)
		r.reloaded(false)
		return false
	}
	r.reloaded(r.apply(log, next, file))
	return false
}

func (r *Reloader) reloaded(ok bool) {
	if r.Reloaded != nil {
		r.Reloaded(ok)
	}
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
// or none, and ok says which. r.mu is held.
func (r *Reloader) apply(log *slog.Logger, next Resolved, file Layer) (ok bool) {
	run, nx := r.running.Settings(), next.Settings()
	natChanged := nx.NATHost != run.NATHost || nx.NATPort != run.NATPort
	if natChanged {
		if err := r.target.SetNAT(nx.NATHost, nx.NATPort); err != nil {
			log.Error("config not applied, keeping the running configuration", "err", fmt.Errorf("nat: %w", err))
			return false
		}
	}
	added, changed, removed, err := r.target.SetStatic(nx.Static)
	if err != nil {
		if natChanged {
			// The running location was accepted once, so it is again.
			if nerr := r.target.SetNAT(run.NATHost, run.NATPort); nerr != nil {
				err = errors.Join(err, fmt.Errorf("restoring the NAT location: %w", nerr))
			}
		}
		log.Error("config not applied, keeping the running configuration", "err", fmt.Errorf("static registrations: %w", err))
		return false
	}
	restart := needRestart(&r.running, &next)
	over := overridden(r.file, file, &next)
	r.running.l.Static = next.l.Static
	r.running.l.NATHost, r.running.l.NATPort = next.l.NATHost, next.l.NATPort
	r.file = file
	changes := len(added) + len(changed) + len(removed)
	switch {
	case changes > 0 || natChanged:
		attrs := []any{"added", len(added), "changed", len(changed), "removed", len(removed)}
		for _, c := range []struct {
			what  string
			names []string
		}{{"added_names", added}, {"changed_names", changed}, {"removed_names", removed}} {
			if len(c.names) > 0 {
				attrs = append(attrs, c.what, sampleNames(c.names))
			}
		}
		if natChanged {
			attrs = append(attrs, "nat", natText(nx.NATHost, nx.NATPort))
		}
		log.Info("config reloaded", attrs...)
	case len(restart) == 0 && len(over) == 0:
		log.Info("config reloaded, no changes")
	}
	for _, o := range over {
		log.Warn("config setting changed in the file, but another source stays in effect", "key", o.key, "overridden_by", o.by.String())
	}
	for _, c := range restart {
		if c.secret {
			log.Warn("config setting changed: needs a restart", "key", c.key)
			continue
		}
		log.Warn("config setting changed: needs a restart", "key", c.key, "old", c.old, "new", c.new)
	}
	return true
}

func natText(host string, port int) string {
	switch {
	case host == "":
		return "off"
	case port == 0:
		return host + " (at the bound port)"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
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
			r.log().Warn("watching the config file", "config", r.Path, "err", err)
		case <-fire:
			fire = nil
			if r.check(false, settled) {
				arm()
				settled = true
			}
		}
	}
}
