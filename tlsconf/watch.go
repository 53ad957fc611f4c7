package tlsconf

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// fingerprint is what a cheap change check compares: size and
// modification time of every file, and of every entry of a CA directory
// (a new hashed file appears there without the others changing).
type fingerprint string

func stampFiles(paths []string) fingerprint {
	var b []byte
	add := func(p string) {
		fi, err := os.Stat(p)
		if err != nil {
			b = fmt.Appendf(b, "%s:%v;", p, err)
			return
		}
		b = fmt.Appendf(b, "%s:%d:%d;", p, fi.Size(), fi.ModTime().UnixNano())
		if fi.IsDir() {
			entries, _ := os.ReadDir(p)
			for _, e := range entries {
				if hashedName.MatchString(e.Name()) {
					// Stat follows the symlinks that c_rehash makes.
					f := filepath.Join(p, e.Name())
					if fi, err := os.Stat(f); err == nil {
						b = fmt.Appendf(b, "%s:%d:%d;", f, fi.Size(), fi.ModTime().UnixNano())
					}
				}
			}
		}
	}
	for _, p := range paths {
		add(p)
	}
	return fingerprint(b)
}

// ReloadIfChanged reloads when a file's size or modification time differs
// from the last reading, and reports whether it tried. A failed attempt is
// remembered too, so a broken file is reported once, not on every check.
func (r *Reloader) ReloadIfChanged() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.current.Load()
	stamp := stampFiles(r.settings.serverFiles())
	if stamp == cur.stamp || stamp == r.failedStamp {
		return false, nil
	}
	m, err := r.read(stamp)
	if err != nil {
		r.failedStamp = stamp
		return true, err
	}
	r.failedStamp = ""
	r.current.Store(m)
	return true, nil
}

// ReloadEvent reports one reload that Watch attempted.
type ReloadEvent struct {
	Err  error             // nil: the new material is in use
	Leaf *x509.Certificate // the certificate in use after the attempt
}

// debounce lets a tool that writes the certificate and then the key finish
// before we read; a half-written pair would only fail and retry anyway.
const debounce = 100 * time.Millisecond

// Watch checks the files for changes until ctx is done: on every file
// system event in their directories (fsnotify) and every interval (also
// the fallback when fsnotify is unavailable; no interval check when
// interval is not positive). Each attempted reload is
// reported to report, which may be nil; the old material stays in use
// after a failure. Watch returns ctx's error.
func (r *Reloader) Watch(ctx context.Context, interval time.Duration, report func(ReloadEvent)) error {
	if report == nil {
		report = func(ReloadEvent) {}
	}
	check := func() {
		if tried, err := r.ReloadIfChanged(); tried {
			report(ReloadEvent{Err: err, Leaf: r.Leaf()})
		}
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w, err := fsnotify.NewWatcher(); err != nil {
		report(ReloadEvent{Err: fmt.Errorf("watch certificate files (falling back to checks every %v): %w", interval, err), Leaf: r.Leaf()})
	} else {
		defer w.Close()
		for _, d := range r.settings.watchDirs() {
			if err := w.Add(d); err != nil {
				report(ReloadEvent{Err: fmt.Errorf("watch %s (falling back to checks every %v): %w", d, interval, err), Leaf: r.Leaf()})
			}
		}
		events, errs = w.Events, w.Errors
	}
	var ticks <-chan time.Time
	if interval > 0 {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		ticks = tick.C
	}
	settle := time.NewTimer(debounce)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-events:
			settle.Reset(debounce)
		case err := <-errs:
			report(ReloadEvent{Err: fmt.Errorf("watch certificate files: %w", err), Leaf: r.Leaf()})
		case <-settle.C:
			check()
		case <-ticks:
			check()
		}
	}
}

// watchDirs are the directories holding the files: watching the directory,
// not the file, sees a file replaced by rename (how editors, cert-manager
// and Kubernetes secrets update) as well as one rewritten in place.
func (s Settings) watchDirs() []string {
	var dirs []string
	for _, f := range s.serverFiles() {
		dirs = append(dirs, filepath.Dir(f))
		if fi, err := os.Stat(f); err == nil && fi.IsDir() {
			dirs = append(dirs, f)
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}
