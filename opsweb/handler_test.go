package opsweb

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func newTestHandler(t *testing.T, opts Options) *Handler {
	t.Helper()
	if opts.Source == nil {
		opts.Source = newFakeSource(sampleEntries()...)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

// do serves one request in process and returns the status, the headers and
// the body.
func do(t *testing.T, h http.Handler, method, target string) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.String()
}

func names(t *testing.T, body string) []string {
	t.Helper()
	var es []entryJSON
	if err := json.Unmarshal([]byte(body), &es); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	out := []string{}
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func errorText(t *testing.T, body string) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("decode error body %q: %v", body, err)
	}
	return e.Error
}

func TestNewNeedsSource(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a Source succeeded")
	}
}

func TestListFilters(t *testing.T) {
	h := newTestHandler(t, Options{})
	tests := []struct {
		query   string
		code    int
		names   string // comma-joined, in order
		errText string // substring of the 400's error
	}{
		{"", 200, "Pyro.NameServer,dept.archive,dept.billing,a.b/c,weird<&>", ""},
		{"?prefix=dept.", 200, "dept.archive,dept.billing", ""},
		{"?prefix=", 200, "Pyro.NameServer,dept.archive,dept.billing,a.b/c,weird<&>", ""}, // falsy: no filter
		{"?prefix=nothing", 200, "", ""},
		{"?regex=dept%5C.b", 200, "dept.billing", ""},
		{"?regex=billing", 200, "", ""}, // re.match is anchored at the start
		{"?metadata_all=dept:records&metadata_all=class:archive", 200, "dept.archive", ""},
		{"?metadata_all=dept:records&metadata_all=dept:finance", 200, "", ""},
		{"?metadata_any=dept:records&metadata_any=dept:finance", 200, "dept.archive,dept.billing", ""},
		{"?regex=%28", 400, "", "invalid regex: "},
		{"?prefix=a&regex=b", 400, "", "you can only filter on one thing at a time"},
		{"?prefix=&regex=", 400, "", "you can only filter on one thing at a time"}, // given, if empty
		{"?prefix=a&prefix=b", 400, "", "prefix given more than once"},
		{"?metadata=x", 400, "", "unknown parameter metadata"},
		{"?prefix=%zz", 400, "", "query: "},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			code, hd, body := do(t, h, "GET", "/api/v1/names"+tc.query)
			if code != tc.code {
				t.Fatalf("status %d, want %d; body %s", code, tc.code, body)
			}
			if ct := hd.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.code != 200 {
				if got := errorText(t, body); !strings.Contains(got, tc.errText) {
					t.Errorf("error %q, want it to contain %q", got, tc.errText)
				}
				return
			}
			if got := strings.Join(names(t, body), ","); got != tc.names {
				t.Errorf("names %q, want %q", got, tc.names)
			}
		})
	}
}

// TestListShape pins the nsc --json shape: metadata sorted, [] when empty,
// no HTML escaping.
func TestListShape(t *testing.T) {
	h := newTestHandler(t, Options{})
	_, _, body := do(t, h, "GET", "/api/v1/names?prefix=a")
	if want := `[{"name":"a.b/c","uri":"PYRO:slash@localhost:1","metadata":[]}]` + "\n"; body != want {
		t.Errorf("body %s, want %s", body, want)
	}
	_, _, body = do(t, h, "GET", "/api/v1/names?prefix=weird")
	if want := `[{"name":"weird<&>","uri":"PYRO:obj@host:2?x=<&>","metadata":["a","z"]}]` + "\n"; body != want {
		t.Errorf("body %s, want %s", body, want)
	}
	_, _, body = do(t, h, "GET", "/api/v1/names?prefix=nothing")
	if body != "[]\n" {
		t.Errorf("empty list body %q, want []", body)
	}
}

func TestLookup(t *testing.T) {
	src := newFakeSource(sampleEntries()...)
	src.register(entry("a//b", "PYRO:x@h:1"))
	src.register(entry("x/../y", "PYRO:y@h:1"))
	src.register(entry("", "PYRO:empty@h:1"))
	src.register(entry("50%", "PYRO:pct@h:1"))
	h := newTestHandler(t, Options{Source: src})
	tests := []struct {
		path, wantName string
		code           int
	}{
		{"/api/v1/names/dept.archive", "dept.archive", 200},
		{"/api/v1/names/a.b%2Fc", "a.b/c", 200},
		{"/api/v1/names/a.b/c", "a.b/c", 200},
		{"/api/v1/names/a%2F%2Fb", "a//b", 200},
		{"/api/v1/names/x%2F..%2Fy", "x/../y", 200},
		{"/api/v1/names/50%25", "50%", 200},
		{"/api/v1/names/", "", 200}, // the empty name is a valid name
		{"/api/v1/names/dept", "dept", 404},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			code, _, body := do(t, h, "GET", tc.path)
			if code != tc.code {
				t.Fatalf("status %d, want %d; body %s", code, tc.code, body)
			}
			switch code {
			case 200:
				var e entryJSON
				if err := json.Unmarshal([]byte(body), &e); err != nil {
					t.Fatal(err)
				}
				if e.Name != tc.wantName || e.URI == "" || e.Metadata == nil {
					t.Errorf("entry %+v, want name %q", e, tc.wantName)
				}
			case 404:
				if got := errorText(t, body); got != "unknown name: "+tc.wantName {
					t.Errorf("error %q", got)
				}
			}
		})
	}
}

func TestSourceFailureIs500(t *testing.T) {
	h := newTestHandler(t, Options{Source: brokenSource{}})
	code, _, body := do(t, h, "GET", "/api/v1/names")
	if code != 500 || !strings.Contains(errorText(t, body), "store: closed") {
		t.Errorf("list: %d %s", code, body)
	}
	code, _, body = do(t, h, "GET", "/api/v1/names/x")
	if code != 500 || !strings.Contains(errorText(t, body), "store: closed") {
		t.Errorf("lookup: %d %s", code, body)
	}
}

func TestWritesNotAllowed(t *testing.T) {
	h := newTestHandler(t, Options{Feed: NewFanout(4)})
	paths := []string{"/", "/metrics", "/healthz", "/readyz", "/api/v1/names", "/api/v1/names/dept.archive",
		"/api/v1/status", "/api/v1/events", "/assets/app.js"}
	for _, p := range paths {
		for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
			code, hd, body := do(t, h, m, p)
			if code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", m, p, code)
				continue
			}
			if hd.Get("Allow") != "GET, HEAD" || !strings.Contains(errorText(t, body), "read-only") {
				t.Errorf("%s %s: Allow %q, body %s", m, p, hd.Get("Allow"), body)
			}
		}
	}
	if code, _, _ := do(t, h, "POST", "/no/such/path"); code != 404 {
		t.Errorf("POST to an unknown path: %d, want 404", code)
	}
}

func TestHealthAndReady(t *testing.T) {
	var notReady error
	h := newTestHandler(t, Options{Ready: func() error { return notReady }})
	if code, _, body := do(t, h, "GET", "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz %d %q", code, body)
	}
	if code, _, body := do(t, h, "GET", "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("readyz %d %q", code, body)
	}
	notReady = errors.New("store: bolt: database not open")
	if code, _, body := do(t, h, "GET", "/readyz"); code != 503 || body != "not ready: store: bolt: database not open\n" {
		t.Errorf("readyz not ready: %d %q", code, body)
	}
	// healthz says the process serves, whatever the store does
	if code, _, _ := do(t, h, "GET", "/healthz"); code != 200 {
		t.Errorf("healthz while not ready: %d", code)
	}
	if code, _, _ := do(t, newTestHandler(t, Options{}), "GET", "/readyz"); code != 200 {
		t.Errorf("readyz without a Ready func: %d", code)
	}
}

func TestStatus(t *testing.T) {
	started := time.Now().Add(-90 * time.Second)
	h := newTestHandler(t, Options{Status: func() (Status, error) {
		return Status{
			Version: "1.4.0", Started: started, NSURI: "PYRO:Pyro.NameServer@localhost:9090", Store: "bolt:/tmp/ns.db",
			Counts:      Counts{Registrations: 5, Static: 1},
			Connections: Connections{Open: 3, Total: 40},
			TLS:         TLSStatus{Enabled: true},
		}, nil
	}})
	code, _, body := do(t, h, "GET", "/api/v1/status")
	if code != 200 {
		t.Fatalf("status %d %s", code, body)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if up, _ := st["uptime_seconds"].(float64); up < 89 || up > 3600 {
		t.Errorf("uptime_seconds %v, want about 90", st["uptime_seconds"])
	}
	for _, k := range []string{"version", "started", "ns_uri", "store", "counts", "connections", "tls", "cluster"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status has no %q: %s", k, body)
		}
	}
	if st["cluster"] != nil {
		t.Errorf("cluster %v, want null", st["cluster"])
	}
	if c := st["counts"].(map[string]any); c["registrations"] != 5.0 || c["static"] != 1.0 {
		t.Errorf("counts %v", c)
	}
	if c := st["connections"].(map[string]any); c["open"] != 3.0 || c["total"] != 40.0 {
		t.Errorf("connections %v", c)
	}

	failing := newTestHandler(t, Options{Status: func() (Status, error) { return Status{}, errors.New("count: store closed") }})
	if code, _, body := do(t, failing, "GET", "/api/v1/status"); code != 500 || !strings.Contains(body, "count: store closed") {
		t.Errorf("failing status: %d %s", code, body)
	}
	if code, _, _ := do(t, newTestHandler(t, Options{}), "GET", "/api/v1/status"); code != 503 {
		t.Errorf("no Status func: %d, want 503", code)
	}
}

func TestPage(t *testing.T) {
	h := newTestHandler(t, Options{})
	tests := []struct {
		path, ctype, contains string
	}{
		{"/", "text/html", `<script src="assets/app.js"`},
		{"/index.html", "text/html", `<input id="q"`},
		{"/assets/app.js", "javascript", "EventSource"},
		{"/assets/app.css", "text/css", "@media"},
	}
	for _, tc := range tests {
		code, hd, body := do(t, h, "GET", tc.path)
		if code != 200 || !strings.Contains(hd.Get("Content-Type"), tc.ctype) || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %q, body has %q: %v", tc.path, code, hd.Get("Content-Type"), tc.contains, strings.Contains(body, tc.contains))
		}
		if csp := hd.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
	}
	// no file from elsewhere: every src and href is relative to this server
	_, _, body := do(t, h, "GET", "/")
	for _, bad := range []string{"http://", "https://", "//"} {
		if strings.Contains(body, `src="`+bad) || strings.Contains(body, `href="`+bad) {
			t.Errorf("page loads %s...", bad)
		}
	}
	if code, _, _ := do(t, h, "GET", "/assets/nope.js"); code != 404 {
		t.Errorf("unknown asset: %d", code)
	}
	if code, _, _ := do(t, h, "GET", "/favicon.ico"); code != 404 {
		t.Errorf("favicon: %d", code)
	}
}

func TestHead(t *testing.T) {
	srv := httptest.NewServer(newTestHandler(t, Options{}))
	defer srv.Close()
	resp, err := http.Head(srv.URL + "/api/v1/names")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) != 0 {
		t.Errorf("HEAD: %d, %d body bytes", resp.StatusCode, len(b))
	}
}
