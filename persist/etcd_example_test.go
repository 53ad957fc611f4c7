package persist_test

import (
	"context"
	"log"
	"time"

	"github.com/pyro4/pyro4/persist"
)

// A name server node on a three-member cluster: it opens the shared name
// space (waiting up to a minute for etcd), and runs its autoclean sweeps
// only while it leads the "autoclean" election.
func ExampleOpenEtcd() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := persist.OpenEtcd(ctx, persist.EtcdOptions{
		Endpoints: []string{"http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"},
		Prefix:    "/pyro4/",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	leading := make(chan bool, 1)
	go func() {
		for lead := range store.Campaign(context.Background(), "autoclean", "PYRO:Pyro.NameServer@10.0.0.1:9090") {
			select {
			case <-leading:
			default:
			}
			leading <- lead
		}
	}()
	_ = leading // the autoclean loop sweeps only while the latest value is true

	if st := store.Status(); st.Err != nil {
		log.Printf("serving from an index %v old: %v", st.Age(), st.Err)
	}
}
