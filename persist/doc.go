// Package persist holds the name server's registrations behind the Store
// interface: a name mapped to a URI string and a set of metadata strings,
// with the compound operations the name server needs (register if absent,
// update metadata if present, remove everything matching) done atomically
// inside the store, so that the server needs no lock of its own around it.
//
// Open turns the name server's -s option into a store: "memory" (the
// default), "bolt:FILE" or "sql:FILE" (Pyro4's own sqlite store, in its
// schema). Pyro4's "dbm:FILE" is refused with an error naming `pyro4
// migrate`; Location reads it (through package bdbhash), and reads and
// writes the other kinds and json: files, for that command.
//
// # SQL
//
// SQL reads and writes the file of Pyro4's SqlStorage, so pyro4-ns and this
// server can serve it in turn. Each write is one transaction, as in Pyro4,
// committed and synced before it returns; reads come from a Memory index
// loaded at open whose order is sqlite's row id.
//
// # Memory
//
// Every store lists in registration order, the order of Pyro4's store of
// the same kind (for memory and bolt that of a Python dict), not in name
// order.
//
// Memory keeps everything in the process: one B-tree ordered by name
// answers Get and Range, each entry carrying its place in registration
// order, so listing a prefix costs a seek plus sorting the entries listed,
// however many names the store holds. Reads share a lock
// and run in parallel. Durability: none; the registrations end with the
// process, as with Pyro4's default storage.
//
// # Bolt
//
// Bolt keeps the registrations in a bbolt file, one key per name, and a
// second bucket in registration order, so the order survives a restart. A write
// returns nil only after its transaction is committed and fsynced: a name
// server killed, or a machine that loses power, right after an
// acknowledgement still has that registration when it restarts (provided
// the disk honours fsync). Reads use bbolt read transactions, which see the
// last commit and never wait for writers.
//
// A commit costs a sync of the disk, typically 0.1 to 10 ms and always more
// than the work of the write itself. So concurrent writes are grouped: a
// single goroutine commits everything queued while the previous commit was
// syncing, in one transaction, and N writers share one sync. This is the
// idea of bbolt's DB.Batch without its fixed delay before every batch (see
// bolt_commit.go). As with DB.Batch, a write may be run more than once if
// another write in its batch fails, so each write decides its outcome (for
// PutNew, whether the name exists) inside the transaction that commits it.
//
// The file carries a format marker and version, and a store file is
// checked, opened read-only, before it is opened for writing: a file this
// package did not write (another program's bbolt database, a Pyro4 sqlite
// file, anything else) is refused and left exactly as it was. A new store is
// built under a temporary name and linked into place, so a crash during
// creation never leaves a half-made store. The open file is locked: a
// second name server on the same file fails at once with "store FILE is in
// use by another name server" instead of waiting. Opening walks every page
// of the file once, read-only (bolt_check.go), about 0.1 s per million
// names; nothing is loaded into memory, and the entry count is kept in the
// file.
//
// A damaged file (truncated, overwritten, a page that is not what the tree
// says) is refused at open with an error wrapping ErrDamaged, and left as
// it was. Damage that appears later, while the store is open, gives such
// errors when the damaged part is read; bbolt's panics and memory-map
// faults there are turned into those errors, in plain words.
//
// # Etcd
//
// Etcd ("etcd:ENDPOINT[,ENDPOINT...]") keeps the registrations in an etcd
// cluster that several name servers share: one name space, whichever node
// a client asks. A name is the key PREFIX+"names/"+name (PREFIX defaults to
// "/pyro4/"; name spaces sharing a cluster use distinct prefixes, none a
// prefix of another), its value a small binary record of the etcd store's
// own (etcd_value.go).
// Elections (Campaign) live under PREFIX+"elect/".
//
// Every node answers lookups and lists from a local index, loaded by a
// range read at one revision and kept current by a watch from the next;
// a watch that falls behind a compaction reloads the index. Lists come in
// registration order across the cluster, the keys' create revisions. A
// write returns after etcd has committed it (a quorum of members: an
// acknowledged write survives the loss of a minority), and is then in the
// node's own index. register-if-absent compares the key's create revision
// in a transaction, so exactly one of any concurrent claims wins.
//
// Without quorum, or with etcd unreachable, reads go on from the index
// (Status tells its age) and writes fail within RequestTimeout with an
// error wrapping ErrUnavailable. When etcd is back the watch resumes by
// itself. Opening retries while etcd is unreachable until its context
// ends.
package persist
