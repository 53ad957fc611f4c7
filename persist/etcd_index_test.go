package persist

import "testing"

// indexStep is one change reaching an etcdIndex: a store's own write,
// applied when its request returns, or a watch event, after which the
// watch has delivered everything up to its revision.
type indexStep struct {
	kind string // "own-put", "own-del", "watch-put", "watch-del", "progress"
	rev  int64
}

func (st indexStep) apply(x *etcdIndex, name string) {
	switch st.kind {
	case "own-put":
		x.put(&etcdEntry{name: name, uri: "u", create: st.rev, mod: st.rev}, true)
	case "own-del":
		x.remove(name, st.rev, true)
	case "watch-put":
		x.put(&etcdEntry{name: name, uri: "u", create: st.rev, mod: st.rev}, false)
		x.advance(st.rev)
	case "watch-del":
		x.remove(name, st.rev, false)
		x.advance(st.rev)
	case "progress":
		x.advance(st.rev)
	}
}

// TestEtcdIndexOrder: whatever order a store's own writes and the watch
// reach the index in, it ends at the key's latest state, and a tombstone
// lives only until the watch passes it. A request's own-write application
// can be delayed arbitrarily (the goroutine descheduled between etcd's
// answer and taking the lock), so it may arrive after the watch has
// delivered the same write and later ones.
func TestEtcdIndexOrder(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []indexStep
		want  int64 // mod revision present at the end; 0: absent
	}{
		{"own put late after the watch passed a delete", []indexStep{
			{"watch-put", 10}, {"watch-del", 11}, {"own-del", 11}, {"own-put", 10},
		}, 0},
		{"own put late after the watch passed its own delete", []indexStep{
			{"own-del", 11}, {"watch-put", 10}, {"watch-del", 11}, {"own-put", 10},
		}, 0},
		{"own put late after the watch passed another store's delete", []indexStep{
			{"watch-put", 10}, {"watch-del", 11}, {"own-put", 10},
		}, 0},
		{"own delete before its put is applied", []indexStep{
			{"own-del", 11}, {"own-put", 10}, {"watch-put", 10}, {"watch-del", 11},
		}, 0},
		{"own delete before the watch delivers the put", []indexStep{
			{"own-put", 10}, {"own-del", 11}, {"watch-put", 10}, {"watch-del", 11},
		}, 0},
		{"own delete late after a newer put", []indexStep{
			{"watch-put", 10}, {"watch-del", 11}, {"watch-put", 12}, {"own-del", 11},
		}, 12},
		{"late own delete leaves no tombstone for a newer put", []indexStep{
			{"watch-put", 10}, {"watch-del", 11}, {"own-del", 11}, {"watch-put", 12},
		}, 12},
		{"own put ahead of the watch", []indexStep{
			{"watch-put", 10}, {"own-put", 12}, {"watch-put", 12},
		}, 12},
		{"own re-put after own delete", []indexStep{
			{"own-put", 10}, {"own-del", 11}, {"own-put", 12}, {"watch-put", 10}, {"watch-del", 11}, {"watch-put", 12},
		}, 12},
		{"stale own put after a newer version", []indexStep{
			{"watch-put", 10}, {"watch-put", 12}, {"own-put", 10},
		}, 12},
		{"watch event after a progress notification ahead of it", []indexStep{
			{"progress", 20}, {"watch-put", 12},
		}, 12},
		{"absent at a read older than the index", []indexStep{
			{"watch-put", 18}, {"own-del", 15},
		}, 18},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := newEtcdIndex()
			x.advance(5)
			for _, st := range c.steps {
				st.apply(x, "n")
			}
			check := func(when string) {
				t.Helper()
				e := x.get("n")
				var got int64
				if e != nil {
					got = e.mod
				}
				if got != c.want {
					t.Fatalf("%s: present at mod %d, want %d (0: absent)", when, got, c.want)
				}
				if n := x.byRev.Len(); n != x.byName.Len() {
					t.Fatalf("%s: %d entries by revision, %d by name", when, n, x.byName.Len())
				}
			}
			check("after the steps")
			x.advance(100)
			check("after the watch passed everything")
			if len(x.gone) != 0 {
				t.Fatalf("tombstones left after the watch passed them: %v", x.gone)
			}
		})
	}
}
