package opsweb

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/headless"
)

// rendered is the page's list as a person sees it.
type rendered struct {
	Name string   `json:"name"`
	URI  string   `json:"uri"`
	Tags []string `json:"tags"`
}

const readList = `Array.from(document.querySelectorAll('#names .entry')).map(li => ({
	name: li.querySelector('.name').textContent,
	uri: li.querySelector('.uri').textContent,
	tags: Array.from(li.querySelectorAll('.tags li')).map(t => t.textContent)}))`

func pageList(b *headless.Browser) []rendered {
	var out []rendered
	b.Eval(readList, &out)
	return out
}

func pageNames(b *headless.Browser) []string {
	var out []string
	for _, r := range pageList(b) {
		out = append(out, r.Name)
	}
	return out
}

// TestPageInBrowser loads the page in headless Chromium against the handler
// on 127.0.0.1: the names and metadata appear, a name registered afterwards
// appears without a reload, the filter (from the URL and typed) narrows the
// list, a bad regex shows list()'s error, and at phone width nothing
// overflows sideways.
func TestPageInBrowser(t *testing.T) {
	feed := NewFanout(64)
	src := newFakeSource(sampleEntries()...)
	src.feed = feed
	h := newTestHandler(t, Options{Source: src, Feed: feed, Status: func() (Status, error) {
		return Status{Version: "v1.4.0", Started: time.Now().Add(-3 * time.Hour), NSURI: "PYRO:Pyro.NameServer@localhost:9090",
			Store: "bolt:/var/lib/pyro4/ns.db", Connections: Connections{Open: 2}}, nil
	}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	// started after the server, so that its cleanup (stop) runs first
	b := headless.Start(t)
	art := headless.ArtifactDir(t)

	b.Viewport(1200, 720, false)
	b.Navigate(srv.URL + "/")
	b.WaitFor("the snapshot", `document.body.dataset.loaded === '1' && document.querySelectorAll('#names .entry').length === 5`)
	b.WaitFor("the live stream", `document.getElementById('live').dataset.state === 'live'`)
	got := pageList(b)
	want := []rendered{ // sorted by name, metadata sorted
		{"Pyro.NameServer", "PYRO:Pyro.NameServer@localhost:9090", []string{"class:Pyro4.naming.NameServer"}},
		{"a.b/c", "PYRO:slash@localhost:1", nil},
		{"dept.archive", "PYRO:archive@10.0.0.5:51851", []string{"class:archive", "dept:records"}},
		{"dept.billing", "PYRO:billing@10.0.0.6:51852", []string{"dept:finance"}},
		{"weird<&>", "PYRO:obj@host:2?x=<&>", []string{"a", "z"}}, // as text, not markup
	}
	if !equalRendered(got, want) {
		t.Fatalf("page shows %+v\nwant %+v", got, want)
	}

	// a registration after load arrives through the event stream
	b.Eval(`window.noReload = 1`, nil)
	deadline := time.Now().Add(5 * time.Second)
	for feed.Subscribers() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	src.register(entry("dept.new", "PYRO:new@127.0.0.1:4000", "dept:records", "env:test"))
	b.WaitFor("the registered name", `document.querySelector('#names .entry[data-name="dept.new"]')`)
	var same bool
	b.Eval(`window.noReload === 1`, &same)
	if !same {
		t.Error("the page reloaded to show the new name")
	}
	if r := find(pageList(b), "dept.new"); r == nil || r.URI != "PYRO:new@127.0.0.1:4000" || !slices.Equal(r.Tags, []string{"dept:records", "env:test"}) {
		t.Errorf("new entry shown as %+v", r)
	}
	b.Screenshot(filepath.Join(art, "ops-page.png"))
	if p := os.Getenv("OPSWEB_DOCS_SCREENSHOT"); p != "" {
		b.Screenshot(p)
	}
	src.remove("dept.new")
	b.WaitFor("the removed name gone", `!document.querySelector('#names .entry[data-name="dept.new"]')`)

	// the filter from the URL fills the box and narrows the list
	b.Navigate(srv.URL + "/?prefix=dept.")
	b.WaitFor("the prefix filter", `document.body.dataset.loaded === '1' && document.getElementById('names').dataset.count === '2'`)
	if n := pageNames(b); !slices.Equal(n, []string{"dept.archive", "dept.billing"}) {
		t.Errorf("prefix=dept. shows %v", n)
	}
	var box []string
	b.Eval(`[document.getElementById('mode').value, document.getElementById('q').value, document.getElementById('count').textContent]`, &box)
	if !slices.Equal(box, []string{"prefix", "dept.", "2 of 5 names"}) {
		t.Errorf("filter box %v", box)
	}
	// a live change under a filter: a matching name appears, another does not
	b.WaitFor("the live stream", `document.getElementById('live').dataset.state === 'live'`)
	src.register(entry("other.thing", "PYRO:o@127.0.0.1:1"))
	src.register(entry("dept.live", "PYRO:l@127.0.0.1:2"))
	b.WaitFor("the matching new name", `document.querySelector('#names .entry[data-name="dept.live"]')`)
	if n := pageNames(b); !slices.Equal(n, []string{"dept.archive", "dept.billing", "dept.live"}) {
		t.Errorf("after live changes under prefix=dept. the page shows %v", n)
	}

	// metadata filter from the URL, repeated parameter
	b.Navigate(srv.URL + "/?metadata_all=dept:records&metadata_all=class:archive")
	b.WaitFor("the metadata filter", `document.body.dataset.loaded === '1' && document.getElementById('names').dataset.count === '1'`)
	if n := pageNames(b); !slices.Equal(n, []string{"dept.archive"}) {
		t.Errorf("metadata_all shows %v", n)
	}
	// typed filter: regex mode, then an invalid regex shows list()'s error
	b.Eval(`(() => { const m = document.getElementById('mode'); m.value = 'regex'; m.dispatchEvent(new Event('change'));
		const q = document.getElementById('q'); q.value = 'Pyro|weird'; q.dispatchEvent(new Event('input')); })()`, nil)
	b.WaitFor("the typed regex", `document.getElementById('names').dataset.count === '2' && location.search === '?regex=Pyro%7Cweird'`)
	if n := pageNames(b); !slices.Equal(n, []string{"Pyro.NameServer", "weird<&>"}) {
		t.Errorf("regex Pyro|weird shows %v", n)
	}
	b.Eval(`(() => { const q = document.getElementById('q'); q.value = '('; q.dispatchEvent(new Event('input')); })()`, nil)
	b.WaitFor("the regex error", `!document.getElementById('error').hidden`)
	var errText string
	b.Eval(`document.getElementById('error').textContent`, &errText)
	if !strings.HasPrefix(errText, "invalid regex: ") {
		t.Errorf("error shown %q, want list()'s invalid regex message", errText)
	}

	// a phone: no sideways scrolling, the list still readable
	b.Viewport(390, 844, true)
	b.Navigate(srv.URL + "/")
	b.WaitFor("the snapshot at phone width", `document.body.dataset.loaded === '1' && document.querySelectorAll('#names .entry').length === 7`)
	var fits bool
	b.Eval(`document.documentElement.scrollWidth <= window.innerWidth`, &fits)
	if !fits {
		var w []int
		b.Eval(`[document.documentElement.scrollWidth, window.innerWidth]`, &w)
		t.Errorf("page is %v wide at phone width: it scrolls sideways", w)
	}
	b.Screenshot(filepath.Join(art, "ops-page-phone.png"))
}

func find(rs []rendered, name string) *rendered {
	for i := range rs {
		if rs[i].Name == name {
			return &rs[i]
		}
	}
	return nil
}

func equalRendered(a, b []rendered) bool {
	return slices.EqualFunc(a, b, func(x, y rendered) bool {
		return x.Name == y.Name && x.URI == y.URI && slices.Equal(x.Tags, y.Tags) || (len(x.Tags) == 0 && len(y.Tags) == 0 && x.Name == y.Name && x.URI == y.URI)
	})
}
