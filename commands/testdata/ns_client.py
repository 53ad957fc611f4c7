# Talks to a name server the way a Pyro4 application does.
#   ns_client.py URI [KEY] list             -> JSON {name: [uri, sorted metadata]}
#   ns_client.py URI [KEY] register NAME URI [META...]
#   ns_client.py URI [KEY] remove NAME      -> prints the count, or the error
#   ns_client.py URI [KEY] setmeta NAME [META...] -> "ok", or the error
# KEY is "-" for none.
import json
import sys

import Pyro4
import Pyro4.errors

uri, key, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
with Pyro4.Proxy(uri) as ns:
    if key != "-":
        ns._pyroHmacKey = key.encode()
    if cmd == "list":
        entries = ns.list(return_metadata=True)
        print(json.dumps({k: [v, sorted(m)] for k, (v, m) in entries.items()}, sort_keys=True))
    elif cmd == "register":
        ns.register(args[0], args[1], metadata=set(args[2:]))
        print("ok")
    elif cmd == "remove":
        try:
            print(ns.remove(args[0]))
        except Pyro4.errors.NamingError as e:
            print("NamingError: %s" % e)
    elif cmd == "setmeta":
        try:
            ns.set_metadata(args[0], set(args[1:]))
            print("ok")
        except Pyro4.errors.NamingError as e:
            print("NamingError: %s" % e)
    else:
        sys.exit("unknown command " + cmd)
