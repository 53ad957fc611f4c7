package etcdtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestCluster checks the harness itself: the cluster serves, survives the
// loss of one member, stops committing without quorum, recovers when the
// members return, and compacts.
func TestCluster(t *testing.T) {
	c := Start(t, 3)
	cli := c.Client(t)
	put := func(key string) error {
		ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(context.Background()), 3*time.Second)
		defer cancel()
		_, err := cli.Put(ctx, key, "v")
		return err
	}
	if err := put("a"); err != nil {
		t.Fatalf("put on a healthy cluster: %v", err)
	}
	c.Kill(0)
	if c.Running(0) {
		t.Fatal("member 0 still running after Kill")
	}
	// Member 0 may have been the leader: writes resume once the others
	// have elected one (a few election timeouts).
	var err error
	for range 20 {
		if err = put("b"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("put with one member down: %v", err)
	}
	c.Kill(1)
	if err := put("c"); err == nil {
		t.Fatal("put without quorum succeeded")
	}
	c.Restart(0)
	c.Restart(1)
	if err := c.WaitHealthy(startTimeout); err != nil {
		t.Fatal(err)
	}
	if err := put("d"); err != nil {
		t.Fatalf("put after restart: %v", err)
	}
	rev := c.Compact(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := cli.Get(ctx, "a", clientv3.WithRev(rev-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("get below the compaction: %v, want ErrCompacted", err)
	}
}
