package opsweb

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// The page is plain files compiled into the binary: nothing to build, nothing
// fetched from elsewhere at run time.
//
//go:embed page
var pageFiles embed.FS

type pageFile struct {
	body  []byte
	ctype string
}

type pageServer struct {
	files map[string]pageFile // by URL path
	mod   time.Time
}

// pageHandler serves page/index.html at / and page/NAME at /assets/NAME.
func pageHandler() (http.Handler, error) {
	ps := &pageServer{files: map[string]pageFile{}, mod: time.Now()}
	err := fs.WalkDir(pageFiles, "page", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := pageFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "page/")
		url := "/assets/" + name
		if name == "index.html" {
			url = "/"
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		ps.files[url] = pageFile{b, ctype}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("opsweb: embedded page: %w", err)
	}
	return ps, nil
}

func (ps *pageServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/index.html" {
		p = "/"
	}
	f, ok := ps.files[p]
	if !ok {
		writeError(w, http.StatusNotFound, "no such file: "+r.URL.Path)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	// Only this origin's own files and API: no inline script, no framing.
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", ps.mod, bytes.NewReader(f.body))
}
