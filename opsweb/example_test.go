package opsweb_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyro4/pyro4/metrics"
	"github.com/pyro4/pyro4/opsweb"
	"github.com/pyro4/pyro4/persist"
)

// registry is the smallest Source: a fixed list, filtered by prefix only.
type registry []persist.Entry

func (r registry) List(f opsweb.Filter) ([]persist.Entry, error) {
	if f.Regex != nil {
		return nil, &opsweb.FilterError{Message: "invalid regex: not supported here"}
	}
	var out []persist.Entry
	for _, e := range r {
		if f.Prefix == nil || strings.HasPrefix(e.Name, *f.Prefix) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (r registry) Lookup(name string) (persist.Entry, bool, error) {
	for _, e := range r {
		if e.Name == name {
			return e, true, nil
		}
	}
	return persist.Entry{}, false, nil
}

func Example() {
	m := metrics.New(metrics.Options{Version: "v1.0.0"})
	feed := opsweb.NewFanout(256) // the server calls feed.Publish on every change
	h, err := opsweb.New(opsweb.Options{
		Source: registry{
			{Name: "Pyro.NameServer", URI: "PYRO:Pyro.NameServer@localhost:9090", Metadata: []string{"class:Pyro4.naming.NameServer"}},
			{Name: "dept.archive", URI: "PYRO:archive@10.0.0.5:51851"},
		},
		Feed:       feed,
		Collectors: []prometheus.Collector{m},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Close() // ends event streams, so that Close need not wait for them

	m.ObserveRequest("lookup", "", 0) // what the server does per call
	for _, path := range []string{"/api/v1/names?prefix=dept.", "/api/v1/names/nope", "/api/v1/names?regex=x"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(body))
	}
	resp, err := http.Post(srv.URL+"/api/v1/names", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Allow"))
	}
	// Output:
	// 200 [{"name":"dept.archive","uri":"PYRO:archive@10.0.0.5:51851","metadata":[]}]
	// 404 {"error":"unknown name: nope"}
	// 400 {"error":"invalid regex: not supported here"}
	// 405 GET, HEAD
}
