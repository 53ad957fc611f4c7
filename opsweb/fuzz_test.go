package opsweb

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzQuery: any query string and name path is answered, never a panic, and
// only with the statuses the API documents.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"", "prefix=dept.", "regex=%28", "metadata_all=a&metadata_all=b", "prefix=a&regex=b", "x=%zz", "prefix"} {
		f.Add(s, "dept.archive")
	}
	h, err := New(Options{Source: newFakeSource(sampleEntries()...)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query, name string) {
		req := httptest.NewRequest("GET", "/api/v1/names", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("?%s: %d %s", query, rec.Code, rec.Body.String())
		}
		req = httptest.NewRequest("GET", "/api/v1/names/x", nil)
		req.URL.Path = namesPrefix + name
		req.URL.RawPath = namesPrefix + url.PathEscape(name)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 404 && rec.Code != 400 {
			t.Fatalf("name %q: %d %s", name, rec.Code, rec.Body.String())
		}
	})
}
