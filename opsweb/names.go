package opsweb

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/pyro4/pyro4/persist"
)

// Source is the registry as the API reads it.
type Source interface {
	// List is the name server's list() with return_metadata: the entries
	// f selects, in list() order. A filter list() refuses (more than one
	// filter, an invalid regex) is an error wrapping a *FilterError.
	List(f Filter) ([]persist.Entry, error)
	// Lookup is lookup(name, return_metadata=True); ok false when the name
	// is not registered.
	Lookup(name string) (e persist.Entry, ok bool, err error)
}

// Filter is list()'s keyword arguments as the query string gave them. A nil
// field is a parameter not given (Python's None): list() refuses more than
// one given, even an empty one, and applies a given but empty (falsy) one as
// no filter, so the distinction matters.
type Filter struct {
	Prefix      *string
	Regex       *string
	MetadataAll []string // nil: not given; each repeated parameter is one tag
	MetadataAny []string
}

// FilterError is list()'s refusal of a filter, carrying the message the name
// server's exception has ("invalid regex: ...", "you can only filter on one
// thing at a time"); the API answers 400 with it.
type FilterError struct {
	Message string
}

func (e *FilterError) Error() string { return e.Message }

// entryJSON is the shape nsc --json prints for one registration.
type entryJSON struct {
	Name     string   `json:"name"`
	URI      string   `json:"uri"`
	Metadata []string `json:"metadata"`
}

func toJSON(e persist.Entry) entryJSON {
	// Sorted and unique as a Python set printed by nsc --json, and [] rather
	// than null when there is none.
	md := append([]string{}, e.Metadata...)
	slices.Sort(md)
	return entryJSON{e.Name, e.URI, slices.Compact(md)}
}

// filterFromQuery maps the query parameters onto list()'s arguments. An
// unknown parameter is refused rather than ignored, so that a misspelt
// filter ("metadata=") does not silently list everything.
func filterFromQuery(q url.Values) (Filter, error) {
	var f Filter
	for k, vs := range q {
		switch k {
		case "prefix", "regex":
			if len(vs) > 1 {
				return f, errors.New(k + " given more than once")
			}
			v := vs[0]
			if k == "prefix" {
				f.Prefix = &v
			} else {
				f.Regex = &v
			}
		case "metadata_all":
			f.MetadataAll = vs
		case "metadata_any":
			f.MetadataAny = vs
		default:
			return f, errors.New("unknown parameter " + k + " (prefix, regex, metadata_all, metadata_any)")
		}
	}
	return f, nil
}

func (h *Handler) serveList(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "query: "+err.Error())
		return
	}
	f, err := filterFromQuery(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	entries, err := h.opts.Source.List(f)
	if err != nil {
		if fe, ok := errors.AsType[*FilterError](err); ok {
			writeError(w, http.StatusBadRequest, fe.Message)
			return
		}
		writeError(w, http.StatusInternalServerError, "list: "+err.Error())
		return
	}
	out := make([]entryJSON, len(entries))
	for i, e := range entries {
		out[i] = toJSON(e)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) serveLookup(w http.ResponseWriter, r *http.Request) {
	// The escaped path, unescaped once: a name's own "/" or "%" arrives
	// percent-encoded and comes out as itself.
	name, err := url.PathUnescape(r.URL.EscapedPath()[len(namesPrefix):])
	if err != nil {
		writeError(w, http.StatusBadRequest, "name: "+err.Error())
		return
	}
	e, ok, err := h.opts.Source.Lookup(name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "lookup: "+err.Error())
		return
	}
	if !ok {
		// Pyro4's lookup() message for the same miss.
		writeError(w, http.StatusNotFound, "unknown name: "+name)
		return
	}
	if e.Name == "" {
		e.Name = name
	}
	writeJSON(w, http.StatusOK, toJSON(e))
}
