package persist

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// jsonEntry is one registration in a json: file, the shape `pyro4 nsc
// --json list` prints, so a backup is read by people and tools alike.
type jsonEntry struct {
	Name     string   `json:"name"`
	URI      string   `json:"uri"`
	Metadata []string `json:"metadata"`
}

// readJSON reads a json: file: an array of {"name", "uri", "metadata"}.
func readJSON(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, reason(err))
	}
	return decodeJSONEntries(path, data)
}

func decodeJSONEntries(path string, data []byte) ([]Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var js []jsonEntry
	if err := dec.Decode(&js); err != nil {
		return nil, fmt.Errorf("store %s: not a registration list (an array of {\"name\", \"uri\", \"metadata\"}): %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("store %s: data after the registration list", path)
	}
	out := make([]Entry, 0, len(js))
	seen := make(map[string]bool, len(js))
	for i, j := range js {
		if j.URI == "" {
			return nil, fmt.Errorf("store %s: entry %d (%q) has no uri", path, i, j.Name)
		}
		if seen[j.Name] {
			return nil, fmt.Errorf("store %s: name %q listed twice", path, j.Name)
		}
		seen[j.Name] = true
		out = append(out, Entry{Name: j.Name, URI: j.URI, Metadata: NormalizeMetadata(j.Metadata)})
	}
	return out, nil
}

// writeJSON adds entries to the json: file at path (creating it), an
// existing name keeping its place as in a dict, and replaces the file
// atomically: a crash leaves the old file or the new one.
func writeJSON(path string, entries []Entry, progress func(int)) error {
	var all []Entry
	if data, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(data)) > 0 {
		if all, err = decodeJSONEntries(path, data); err != nil {
			return err
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store %s: %w", path, reason(err))
	}
	at := make(map[string]int, len(all)+len(entries))
	for i, e := range all {
		at[e.Name] = i
	}
	for _, e := range entries {
		if i, ok := at[e.Name]; ok {
			all[i] = e
			continue
		}
		at[e.Name] = len(all)
		all = append(all, e)
	}
	js := make([]jsonEntry, len(all))
	for i, e := range all {
		md := NormalizeMetadata(e.Metadata)
		if md == nil {
			md = []string{}
		}
		js[i] = jsonEntry{e.Name, e.URI, md}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(js); err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	if err := ensureStoreDir(path); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".new-*")
	if err != nil {
		return describeCreateError(path, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(buf.Bytes())
	if werr == nil {
		werr = tmp.Sync()
	}
	if err := errors.Join(werr, tmp.Close()); err != nil {
		return fmt.Errorf("store %s: write: %w", path, reason(err))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("store %s: %w", path, reason(err))
	}
	progress(len(entries))
	return syncDir(filepath.Dir(path))
}
