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

// auditStore is a persist.Store of one's own: the memory store, with a
// line printed for every change, as an audit log might record them.
type auditStore struct{ persist.Store }

func (a auditStore) Put(e persist.Entry) error {
	fmt.Println("put", e.Name)
	return a.Store.Put(e)
}

func (a auditStore) PutNew(e persist.Entry) error {
	err := a.Store.PutNew(e)
	fmt.Println("put new", e.Name, err == nil)
	return err
}

func (a auditStore) Delete(name string) (bool, error) {
	ok, err := a.Store.Delete(name)
	fmt.Println("delete", name, ok)
	return ok, err
}

// ExampleNew_customStore embeds a name server whose registrations live in
// a Store implemented by the program itself. Every registration, the
// server's own and those of its clients, goes through it.
func ExampleNew_customStore() {
	store := auditStore{persist.NewMemory()}
	defer store.Close() // a store passed in stays the caller's to close

	s, err := nameserver.New(nameserver.Options{Host: "127.0.0.1", NoBroadcast: true, Store: store})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()

	reg := s.Registry()
	entry := persist.Entry{Name: "example.greeter", URI: "PYRO:greeter@127.0.0.1:4711", Metadata: []string{"class:Greeter"}}
	for range 2 {
		if err := reg.Register(entry, true); err != nil {
			fmt.Println(err)
		}
	}
	if _, err := reg.Remove(entry.Name); err != nil {
		log.Fatal(err)
	}

	cancel()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	// Output:
	// put Pyro.NameServer
	// put new example.greeter true
	// put new example.greeter false
	// NamingError: name already registered: example.greeter
	// delete example.greeter true
}
