package commands

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pyro4/pyro4/internal/headless"
	"github.com/pyro4/pyro4/internal/pypeer"
)

type pageEntry struct {
	Name string   `json:"name"`
	URI  string   `json:"uri"`
	Tags []string `json:"tags"`
}

const readPage = `Array.from(document.querySelectorAll('#names .entry')).map(li => ({
	name: li.querySelector('.name').textContent,
	uri: li.querySelector('.uri').textContent,
	tags: Array.from(li.querySelectorAll('.tags li')).map(t => t.textContent)}))`

func pageEntries(b *headless.Browser) []pageEntry {
	var out []pageEntry
	b.Eval(readPage, &out)
	return out
}

func pageEntryNames(b *headless.Browser) []string {
	var out []string
	for _, e := range pageEntries(b) {
		out = append(out, e.Name)
	}
	return out
}

// TestOpsPageInBrowser loads the registry page of a running pyro4 ns in
// headless Chromium: the names Pyro4 clients registered appear with their
// metadata, a name a Python client registers afterwards appears without a
// reload, and the filter narrows the list. The screenshot is kept in
// $OPSWEB_ARTIFACTS (and written to $OPSWEB_DOCS_SCREENSHOT when set).
func TestOpsPageInBrowser(t *testing.T) {
	pypeer.Require(t)
	nsCleanEnv(t)
	o := startOpsNs(t)
	for _, r := range [][]string{
		{"dept.archive", "PYRO:archive@127.0.0.1:51851", "class:archive", "dept:records"},
		{"dept.billing", "PYRO:billing@127.0.0.1:51852", "dept:finance"},
		{"lab.sensor", "PYRO:sensor@127.0.0.1:51853"},
	} {
		o.py(t, append([]string{"register"}, r...)...)
	}
	b := headless.Start(t) // after the server: its cleanup runs first
	b.Viewport(1200, 720, false)
	b.Navigate(o.base + "/")
	b.WaitFor("the snapshot", `document.body.dataset.loaded === '1' && document.querySelectorAll('#names .entry').length === 4`)
	b.WaitFor("the live stream", `document.getElementById('live').dataset.state === 'live'`)
	got := pageEntries(b)
	want := []pageEntry{
		{"Pyro.NameServer", o.uri, []string{"class:Pyro4.naming.NameServer"}},
		{"dept.archive", "PYRO:archive@127.0.0.1:51851", []string{"class:archive", "dept:records"}},
		{"dept.billing", "PYRO:billing@127.0.0.1:51852", []string{"dept:finance"}},
		{"lab.sensor", "PYRO:sensor@127.0.0.1:51853", nil},
	}
	if !slices.EqualFunc(got, want, func(a, b pageEntry) bool {
		return a.Name == b.Name && a.URI == b.URI && slices.Equal(a.Tags, b.Tags)
	}) {
		t.Fatalf("page shows %+v\nwant %+v", got, want)
	}

	b.Eval(`window.noReload = 1`, nil)
	o.py(t, "register", "dept.new", "PYRO:new@127.0.0.1:4000", "dept:records", "env:test")
	b.WaitFor("the name registered by Python", `document.querySelector('#names .entry[data-name="dept.new"]')`)
	var same bool
	b.Eval(`window.noReload === 1`, &same)
	if !same {
		t.Error("the page reloaded to show the new name")
	}
	art := headless.ArtifactDir(t)
	b.Screenshot(filepath.Join(art, "ops-page-ns.png"))
	if p := os.Getenv("OPSWEB_DOCS_SCREENSHOT"); p != "" {
		b.Screenshot(p)
	}

	// the typed filter narrows the list to what list(prefix=) gives
	b.Eval(`(() => { const m = document.getElementById('mode'); m.value = 'prefix'; m.dispatchEvent(new Event('change'));
		const q = document.getElementById('q'); q.value = 'dept.'; q.dispatchEvent(new Event('input')); })()`, nil)
	b.WaitFor("the prefix filter", `document.getElementById('names').dataset.count === '3'`)
	if n := pageEntryNames(b); !slices.Equal(n, []string{"dept.archive", "dept.billing", "dept.new"}) {
		t.Errorf("prefix dept. shows %v", n)
	}
	b.Navigate(o.base + "/?metadata_any=env:test&metadata_any=dept:finance")
	b.WaitFor("the metadata filter", `document.body.dataset.loaded === '1' && document.getElementById('names').dataset.count === '2'`)
	if n := pageEntryNames(b); !slices.Equal(n, []string{"dept.billing", "dept.new"}) {
		t.Errorf("metadata_any shows %v", n)
	}
}
