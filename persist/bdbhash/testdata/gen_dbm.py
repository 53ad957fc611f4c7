# Makes the golden Berkeley DB hash files of the bdbhash tests with Debian's
# Python dbm.ndbm (Berkeley DB 5.3), as Pyro4's DbmStorage writes them, and
# beside each NAME.db a NAME.json: the pairs in the order Python's keys()
# gives, as [key, value] strings (latin-1 for bytes that are not UTF-8).
#   cd persist/bdbhash/testdata && /usr/bin/python3 gen_dbm.py
import dbm.ndbm
import json
import os


def make(name, pairs, deletes=()):
    for suffix in (".db",):
        if os.path.exists(name + suffix):
            os.remove(name + suffix)
    db = dbm.ndbm.open(name, "c", 0o600)
    for k, v in pairs:
        db[k] = v
    for k in deletes:
        del db[k]
    db.close()
    db = dbm.ndbm.open(name, "r")
    out = [[k.decode("latin-1"), db[k].decode("latin-1")] for k in db.keys()]
    db.close()
    with open(name + ".json", "w") as f:
        json.dump(out, f, ensure_ascii=True)
        f.write("\n")


make("small", [
    ("Pyro.NameServer".encode(), b"PYRO:Pyro.NameServer@127.0.0.1:9090"),
    ("app.b".encode(), b"PYRO:b@127.0.0.1:5001"),
    ("日本.サービス".encode(), "PYRO:jp@127.0.0.1:5003".encode()),
    ("app.a".encode(), b"PYRO:a@127.0.0.1:5002"),
])
# Many buckets, deletions, and values larger than a page (overflow pages).
many = [(("svc.%04d" % i).encode(), ("PYRO:obj_%04d@10.0.0.%d:%d" % (i, i % 250, 1024 + i)).encode()) for i in range(600)]
many += [(("big.%d" % i).encode(), (b"PYRO:big@h:1#" + b"x" * (5000 * (i + 1)))) for i in range(3)]
make("many", many, deletes=[("svc.%04d" % i).encode() for i in range(0, 600, 7)])
