package config

import (
	"slices"
	"strings"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// registrations validates the [[registration]] tables (or an inline array
// of tables).
func (p *parser) registrations(m *model, c *Config, _ func(string) (string, bool)) error {
	p.regs = m.Registration
	seen := map[string]int{} // name -> index
	for i, r := range m.Registration {
		e, err := p.registration(i, r)
		if err != nil {
			return err
		}
		if first, dup := seen[e.Name]; dup {
			return p.errorf(p.regKeyLine(i, "name"), "registration %q: name already configured at line %d", e.Name, p.regKeyLine(first, "name"))
		}
		seen[e.Name] = i
		c.Registrations = append(c.Registrations, e)
	}
	return nil
}

// regKeyLine returns the line of key in the i-th (0-based) registration, or
// the line of its table when it lacks the key. The decoder lists a key once
// per table that has it, so the table's key is the one after those of the
// earlier tables that have it too.
func (p *parser) regKeyLine(i int, key string) int {
	if _, ok := p.regs[i][key]; ok {
		nth := 1
		for _, r := range p.regs[:i] {
			if _, ok := r[key]; ok {
				nth++
			}
		}
		if line := p.at(nth, "registration", key); line > 0 {
			return line
		}
	}
	if line := p.at(i+1, "registration"); line > 0 {
		return line
	}
	// An inline array of tables has one line for them all.
	return p.at(1, "registration")
}

// registrationKeys are the keys of a [[registration]] table, which is
// decoded by hand rather than through the model.
var registrationKeys = []string{"name", "uri", "metadata"}

func (p *parser) registration(i int, r map[string]any) (persist.Entry, error) {
	unknown := ""
	for key := range r {
		if !slices.Contains(registrationKeys, key) && (unknown == "" || key < unknown) {
			unknown = key
		}
	}
	if unknown != "" {
		return persist.Entry{}, p.errorf(p.regKeyLine(i, unknown), "registration: unknown key %q (want %s)", unknown, strings.Join(registrationKeys, ", "))
	}
	name, ok := r["name"].(string)
	switch {
	case r["name"] == nil:
		return persist.Entry{}, p.errorf(p.regKeyLine(i, "name"), "registration: missing name")
	case !ok:
		return persist.Entry{}, p.errorf(p.regKeyLine(i, "name"), "registration: name must be a string")
	case name == "":
		return persist.Entry{}, p.errorf(p.regKeyLine(i, "name"), "registration: name is empty")
	case name == "Pyro.NameServer":
		return persist.Entry{}, p.errorf(p.regKeyLine(i, "name"), "registration %q: the name server's own name cannot be configured", name)
	case len(name) > persist.MaxNameLen:
		return persist.Entry{}, p.errorf(p.regKeyLine(i, "name"), "registration: name longer than %d bytes", persist.MaxNameLen)
	}
	uri, ok := r["uri"].(string)
	switch {
	case r["uri"] == nil:
		return persist.Entry{}, p.errorf(p.regKeyLine(i, "uri"), "registration %q: missing uri", name)
	case !ok:
		return persist.Entry{}, p.errorf(p.regKeyLine(i, "uri"), "registration %q: uri must be a string", name)
	}
	if _, err := wire.ParseURI(uri); err != nil {
		return persist.Entry{}, p.errorf(p.regKeyLine(i, "uri"), "registration %q: invalid uri %q: %v", name, uri, err)
	}
	e := persist.Entry{Name: name, URI: uri}
	if md, present := r["metadata"]; present {
		list, ok := md.([]any)
		if !ok {
			return persist.Entry{}, p.errorf(p.regKeyLine(i, "metadata"), "registration %q: metadata must be an array of strings", name)
		}
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return persist.Entry{}, p.errorf(p.regKeyLine(i, "metadata"), "registration %q: metadata must be an array of strings, not %v", name, v)
			}
			e.Metadata = append(e.Metadata, s)
		}
	}
	return e, nil
}
