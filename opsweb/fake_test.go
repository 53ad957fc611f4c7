package opsweb

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pyro4/pyro4/persist"
)

// fakeSource is a registry in registration order with list()'s filter rules:
// one filter at most, a falsy one (empty) ignored, priority prefix, regex,
// metadata_all, metadata_any as in Pyro4's NameServer.list.
type fakeSource struct {
	mu      sync.Mutex
	entries []persist.Entry
	feed    *Fanout // when set, every change is published
}

func newFakeSource(entries ...persist.Entry) *fakeSource {
	return &fakeSource{entries: entries}
}

func (s *fakeSource) register(e persist.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Metadata = persist.NormalizeMetadata(e.Metadata)
	i := slices.IndexFunc(s.entries, func(x persist.Entry) bool { return x.Name == e.Name })
	if i >= 0 {
		s.entries[i] = e
	} else {
		s.entries = append(s.entries, e)
	}
	if s.feed != nil {
		s.feed.Publish(Event{Op: OpRegister, Name: e.Name, URI: e.URI, Metadata: e.Metadata})
	}
}

func (s *fakeSource) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = slices.DeleteFunc(s.entries, func(x persist.Entry) bool { return x.Name == name })
	if s.feed != nil {
		s.feed.Publish(Event{Op: OpRemove, Name: name})
	}
}

func (s *fakeSource) List(f Filter) ([]persist.Entry, error) {
	given := 0
	for _, g := range []bool{f.Prefix != nil, f.Regex != nil, f.MetadataAll != nil, f.MetadataAny != nil} {
		if g {
			given++
		}
	}
	if given > 1 {
		return nil, &FilterError{"you can only filter on one thing at a time"}
	}
	var keep func(persist.Entry) bool
	switch {
	case f.Prefix != nil && *f.Prefix != "":
		keep = func(e persist.Entry) bool { return strings.HasPrefix(e.Name, *f.Prefix) }
	case f.Regex != nil && *f.Regex != "":
		re, err := regexp.Compile(`^(?:` + *f.Regex + `)`)
		if err != nil {
			return nil, &FilterError{"invalid regex: " + err.Error()}
		}
		keep = func(e persist.Entry) bool { return re.MatchString(e.Name) }
	case len(f.MetadataAll) > 0:
		keep = func(e persist.Entry) bool {
			for _, t := range f.MetadataAll {
				if !slices.Contains(e.Metadata, t) {
					return false
				}
			}
			return true
		}
	case len(f.MetadataAny) > 0:
		keep = func(e persist.Entry) bool {
			return slices.ContainsFunc(f.MetadataAny, func(t string) bool { return slices.Contains(e.Metadata, t) })
		}
	default:
		keep = func(persist.Entry) bool { return true }
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []persist.Entry
	for _, e := range s.entries {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *fakeSource) Lookup(name string) (persist.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.Name == name {
			return e, true, nil
		}
	}
	return persist.Entry{}, false, nil
}

// sampleEntries is a registry with metadata, in registration order (not name
// order), so that a test sees whether list() order is kept.
func sampleEntries() []persist.Entry {
	return []persist.Entry{
		{Name: "Pyro.NameServer", URI: "PYRO:Pyro.NameServer@localhost:9090", Metadata: []string{"class:Pyro4.naming.NameServer"}},
		{Name: "dept.archive", URI: "PYRO:archive@10.0.0.5:51851", Metadata: []string{"class:archive", "dept:records"}},
		{Name: "dept.billing", URI: "PYRO:billing@10.0.0.6:51852", Metadata: []string{"dept:finance"}},
		{Name: "a.b/c", URI: "PYRO:slash@localhost:1", Metadata: nil},
		{Name: "weird<&>", URI: "PYRO:obj@host:2?x=<&>", Metadata: []string{"z", "a"}},
	}
}

func entry(name, uri string, md ...string) persist.Entry {
	return persist.Entry{Name: name, URI: uri, Metadata: md}
}

// brokenSource fails as a closed store does.
type brokenSource struct{}

func (brokenSource) List(Filter) ([]persist.Entry, error) { return nil, errors.New("store: closed") }
func (brokenSource) Lookup(string) (persist.Entry, bool, error) {
	return persist.Entry{}, false, errors.New("store: closed")
}
