# Writes the seed corpus of FuzzDecodeReply: replies exactly as a Pyro4 4.82
# daemon packs them (Message.to_bytes of serializeData output), for the
# results and exceptions a name server client receives.
#
# usage (from locator/): /usr/bin/python3 testdata/gen_fuzz_seeds.py
import os

import Pyro4.core
import Pyro4.errors
import Pyro4.futures
from Pyro4 import message, util

OUT = os.path.join(os.path.dirname(__file__), "fuzz", "FuzzDecodeReply")


def naming_error():
    e = Pyro4.errors.NamingError("unknown name: x")
    e._pyroTraceback = ["Traceback (most recent call last):\n", "NamingError: unknown name: x\n"]
    return e


listing = {
    "Pyro.NameServer": ("PYRO:Pyro.NameServer@localhost:9090", ["class:Pyro4.naming.NameServer"]),
    "a": ("PYRO:a@h:1", ["t1", "t2"]),
}
seeds = [
    ("list_serpent", "serpent", listing, 0),
    ("list_json", "json", listing, 0),
    ("list_marshal", "marshal", listing, 0),
    ("lookup_uri", "serpent", Pyro4.core.URI("PYRO:obj@[::1]:5000"), 0),
    ("lookup_meta", "serpent", (Pyro4.core.URI("PYRO:obj@./u:/tmp/s"), ["m"]), 0),
    ("count", "serpent", 2, 0),
    ("exception", "serpent", naming_error(), message.FLAGS_EXCEPTION),
    ("exception_json", "json", naming_error(), message.FLAGS_EXCEPTION),
    ("batch", "serpent", [1, None, Pyro4.futures._ExceptionWrapper(naming_error())], 0),
    ("list_compressed", "serpent", {"name.%03d" % i: "PYRO:o%d@host:%d" % (i, i) for i in range(40)}, 0),
]

os.makedirs(OUT, exist_ok=True)
for name, ser, value, flags in seeds:
    serializer = util.get_serializer(ser)
    data, compressed = serializer.serializeData(value, compress=name.endswith("compressed"))
    if compressed:
        flags |= message.FLAGS_COMPRESSED
    msg = message.Message(message.MSG_RESULT, data, serializer.serializer_id, flags, 7)
    raw = msg.to_bytes()
    with open(os.path.join(OUT, name), "w") as f:
        f.write("go test fuzz v1\n[]byte(\"%s\")\n" % "".join("\\x%02x" % b for b in raw))
