package persist_test

import (
	"fmt"
	"log"

	"github.com/pyro4/pyro4/persist"
)

func Example() {
	// "bolt:/var/lib/pyro4/ns.db" would keep the names in a file instead.
	store, err := persist.Open("memory")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	for _, e := range []persist.Entry{
		{Name: "shop.warehouse", URI: "PYRO:warehouse@localhost:51234", Metadata: []string{"stock", "goods"}},
		{Name: "shop.cashier", URI: "PYRO:cashier@localhost:51234"},
		{Name: "bank", URI: "PYRO:bank@localhost:51235"},
	} {
		if err := store.Put(e); err != nil {
			log.Fatal(err)
		}
	}
	err = store.Range("shop.", func(e persist.Entry) bool {
		fmt.Println(e.Name, e.URI, e.Metadata)
		return true
	})
	if err != nil {
		log.Fatal(err)
	}
	// Registration order, as Pyro4 lists them:
	// Output:
	// shop.warehouse PYRO:warehouse@localhost:51234 [goods stock]
	// shop.cashier PYRO:cashier@localhost:51234 []
}

func ExampleNormalizeMetadata() {
	md := []string{"red", "blue", "red"}
	fmt.Println(persist.NormalizeMetadata(md), md)
	fmt.Println(persist.NormalizeMetadata([]string{}) == nil)
	// Output:
	// [blue red] [red blue red]
	// true
}
