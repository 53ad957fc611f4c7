package nameserver_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/persist"
)

// ExampleNew starts a name server inside a Go program, with registrations
// kept in a bbolt file, serves it until the context ends, and prints its URI.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "ns-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := persist.OpenBolt(filepath.Join(dir, "names.db"), persist.BoltOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // a store passed in stays the caller's to close

	s, err := nameserver.New(nameserver.Options{
		Host:        "127.0.0.1",
		Port:        0, // any free port
		NoBroadcast: true,
		Store:       store,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	err = s.Registry().Register(persist.Entry{Name: "example.greeter", URI: "PYRO:greeter@127.0.0.1:4711"}, false)
	if err != nil {
		log.Fatal(err)
	}
	n, _ := s.Registry().Count()
	uri := s.URI().String()
	fmt.Println(uri[:strings.LastIndex(uri, ":")] + ":<port>")
	fmt.Println(n, "names registered")

	cancel() // or s.Close()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	// Output:
	// PYRO:Pyro.NameServer@127.0.0.1:<port>
	// 2 names registered
}
