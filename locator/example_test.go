package locator_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/pyro4/pyro4/locator"
	"github.com/pyro4/pyro4/wire"
)

// Locate a name server as Pyro4's locateNS() does and list what it holds.
func ExampleLocate() {
	ns, step, err := locator.Locate(context.Background(), locator.LocateOptions{
		Options:        locator.Options{Timeout: 5 * time.Second},
		BroadcastAddrs: []string{"127.0.0.1"},
	})
	if err != nil {
		log.Fatal(err) // a *locator.LocateError lists every place tried
	}
	defer ns.Close()
	fmt.Println("found", ns.URI(), "by", step)
	entries, err := ns.List(locator.ListOptions{Prefix: "example.", ReturnMetadata: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Name, "-->", e.URI, e.Metadata)
	}
}

// Resolve a PYRONAME: URI whose location names the name server.
func ExampleResolve() {
	uri, err := wire.ParseURI("PYRONAME:example.thing@localhost:9090")
	if err != nil {
		log.Fatal(err)
	}
	pyro, err := locator.Resolve(context.Background(), uri, locator.LocateOptions{})
	var e *wire.Exception
	if errors.As(err, &e) && e.Class == wire.ClassNamingError {
		log.Fatal("not registered: ", e.Text())
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pyro)
}

// Register a name and look it up again through a direct connection.
func ExampleDialNameServer() {
	uri := locator.NameServerURI("localhost", 9090, "")
	ns, err := locator.DialNameServer(context.Background(), uri, locator.Options{HMACKey: []byte("secret")})
	if err != nil {
		log.Fatal(err)
	}
	defer ns.Close()
	if err := ns.Register("example.thing", "PYRO:thing@host:5000", true, []string{"example"}); err != nil {
		log.Fatal(err)
	}
	got, meta, err := ns.LookupMeta("example.thing")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got, meta)
}

// Call several methods in one round trip.
func ExampleConn_InvokeBatch() {
	c, err := locator.Dial(context.Background(), locator.NameServerURI("localhost", 9090, ""), locator.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	results, err := c.InvokeBatch([]locator.BatchCall{
		{Method: "count"},
		{Method: "lookup", Args: []wire.Value{"example.thing"}},
	})
	if err != nil {
		// results holds the calls before the one that failed
		log.Fatalf("call %d failed: %v", len(results), err)
	}
	fmt.Println(results[0], results[1])
}
