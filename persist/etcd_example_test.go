package persist_test

import (
	"context"
	"log"
	"sync/atomic"
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

	var leading atomic.Bool
	go func() {
		for lead := range store.Campaign(context.Background(), "autoclean", "PYRO:Pyro.NameServer@10.0.0.1:9090") {
			leading.Store(lead)
		}
	}()
	// The autoclean loop sweeps only while leading.Load() is true.

	if st := store.Status(); st.Err != nil {
		log.Printf("serving from an index %v old: %v", st.Age(), st.Err)
	}
}
