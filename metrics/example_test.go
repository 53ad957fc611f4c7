package metrics_test

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pyro4/pyro4/metrics"
)

func Example() {
	m := metrics.New(metrics.Options{Version: "v1.0.0", Registrations: func() int { return 1 }})
	reg := prometheus.NewRegistry() // the HTTP endpoint's own, never the global one
	reg.MustRegister(m)

	start := time.Now()
	// ... the call is served ...
	m.ObserveRequest("lookup", "Pyro4.errors.NamingError", time.Since(start))
	m.ObserveRequest("Department.ArchiveServer", "", time.Since(start)) // not a name server method: "other"

	n, _ := testutil.GatherAndCount(reg, "pyro4_ns_requests_total")
	fmt.Println(n, "request series")
	// Output: 2 request series
}
