#!/usr/bin/python3
"""Golden message vectors from the real Pyro4 (4.82).

Run from this directory with Debian's interpreter:

    /usr/bin/python3 gen_messages.py

It writes messages/<name>.bin (Message(...).to_bytes()) and
messages/manifest.json, which says how each message was built so that the Go
tests can build the same one and compare bytes. Large payloads are described
by a length ("data_len") and filled with pattern(n) below instead of being
spelled out.
"""

import json
import os
import zlib

from Pyro4 import message
from Pyro4.configuration import config

config.MAX_MESSAGE_SIZE = 0

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "messages")
KEY = b"secret"
CORR = bytes(range(16))  # a fixed correlation id (uuid bytes)


def pattern(n):
    return bytes((i * 7 + 3) & 0xFF for i in range(n))


def checksum_data_len(target, msg_type, flags, seq, serializer, ann_size):
    """the data length that makes the header checksum sum equal target"""
    return target - (msg_type + 48 + ann_size + serializer + flags + seq + message.Message.checksum_magic)


cases = []


def case(name, msg_type, data=b"", serializer=1, flags=0, seq=0, annotations=None, hmac_key=None,
         data_len=None, payload=None):
    """annotations: list of (key, bytes) in insertion order"""
    if data_len is not None:
        data = pattern(data_len)
    anns = dict(annotations or [])
    msg = message.Message(msg_type, data, serializer, flags, seq, anns, hmac_key)
    raw = msg.to_bytes()
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(raw)
    entry = {
        "name": name,
        "type": msg_type,
        "flags": flags,
        "seq": seq,
        "serializer": serializer,
        "annotations": [[k, v.hex()] for k, v in (annotations or [])],
        "hmac_key": hmac_key.decode() if hmac_key else None,
        "wire_annotation_order": list(msg.annotations.keys()),
    }
    if data_len is not None:
        entry["data_len"] = data_len
    else:
        entry["data_hex"] = data.hex()
    if payload is not None:
        entry["payload_hex"] = payload.hex()
    cases.append(entry)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".bin"):
            os.remove(os.path.join(OUT, f))

    body = b"('Pyro.NameServer','lookup',('example.greeting',),{})"
    case("plain_invoke", message.MSG_INVOKE, body, seq=1)
    case("empty_data", message.MSG_PING, b"")
    case("ping", message.MSG_PING, b"ping", serializer=42)
    for name, t in [("connect", message.MSG_CONNECT), ("connectok", message.MSG_CONNECTOK),
                    ("connectfail", message.MSG_CONNECTFAIL), ("invoke", message.MSG_INVOKE),
                    ("result", message.MSG_RESULT), ("ping", message.MSG_PING)]:
        case("type_" + name, t, b"{'handshake':'hello'}", seq=7)
    for ser in (1, 2, 3, 4, 6):
        case("serializer_%d" % ser, message.MSG_RESULT, b"'ok'", serializer=ser, seq=3)
    for seq in (0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff):
        case("seq_%04x" % seq, message.MSG_INVOKE, body, seq=seq)
    all_flags = (message.FLAGS_EXCEPTION | message.FLAGS_COMPRESSED | message.FLAGS_ONEWAY | message.FLAGS_BATCH |
                 message.FLAGS_META_ON_CONNECT | message.FLAGS_ITEMSTREAMRESULT | message.FLAGS_KEEPSERIALIZED)
    case("flags_all", message.MSG_RESULT, b"x", flags=all_flags, seq=9)
    case("flags_exception", message.MSG_RESULT, b"{'__exception__':True}", flags=message.FLAGS_EXCEPTION, seq=9)
    case("flags_oneway", message.MSG_INVOKE, body, flags=message.FLAGS_ONEWAY, seq=2)
    case("flags_meta_on_connect", message.MSG_CONNECT, b"{}", flags=message.FLAGS_META_ON_CONNECT, seq=0)

    case("annotations_corr", message.MSG_INVOKE, body, seq=5, annotations=[("CORR", CORR)])
    case("annotations_corr_custom", message.MSG_INVOKE, body, seq=5,
         annotations=[("CORR", CORR), ("XTRA", b"extra annotation")])
    # insertion order differs from sorted order: the wire keeps insertion order
    case("annotations_unsorted", message.MSG_INVOKE, body, seq=5,
         annotations=[("ZZZZ", b"last in sort"), ("CORR", CORR), ("AAAA", b"")])
    # a key given twice: the dict keeps the first position and the last value
    case("annotations_duplicate", message.MSG_INVOKE, body, seq=5,
         annotations=[("CORR", CORR), ("XTRA", b"first"), ("CORR", b"second corr value")])
    case("annotations_empty_value", message.MSG_RESULT, b"None", seq=6, annotations=[("NULL", b"")])

    case("hmac_plain", message.MSG_INVOKE, body, seq=1, hmac_key=KEY)
    case("hmac_empty_data", message.MSG_PING, b"", seq=0, hmac_key=KEY)
    case("hmac_corr", message.MSG_INVOKE, body, seq=11, annotations=[("CORR", CORR)], hmac_key=KEY)
    case("hmac_unsorted", message.MSG_RESULT, b"'result'", seq=12, hmac_key=KEY,
         annotations=[("ZZZZ", b"z"), ("CORR", CORR), ("AAAA", b"a")])
    case("hmac_duplicate", message.MSG_INVOKE, body, seq=14, hmac_key=KEY,
         annotations=[("XTRA", b"first"), ("CORR", CORR), ("XTRA", b"second")])
    case("hmac_seq_ffff", message.MSG_INVOKE, body, seq=0xffff, hmac_key=KEY, annotations=[("CORR", CORR)])
    # an HMAC entry among the caller's annotations is replaced in place, not appended
    case("hmac_in_place", message.MSG_INVOKE, body, seq=13, hmac_key=KEY,
         annotations=[("HMAC", b"placeholder"), ("CORR", CORR)])

    payload = (b"{'objects':{" + b",".join(b"'example.object%d':'PYRO:obj_%d@127.0.0.1:9999'" % (i, i)
                                           for i in range(40)) + b"}}")
    compressed = zlib.compress(payload)
    assert len(compressed) < len(payload)
    case("compressed", message.MSG_RESULT, compressed, flags=message.FLAGS_COMPRESSED, seq=4, payload=payload)
    case("compressed_hmac", message.MSG_RESULT, compressed, flags=message.FLAGS_COMPRESSED, seq=4,
         payload=payload, hmac_key=KEY, annotations=[("CORR", CORR)])

    # data sizes around the point where the checksum sum wraps past 0xffff
    for target, label in ((0xFFFF, "ffff"), (0x10000, "10000"), (0x10001, "10001")):
        n = checksum_data_len(target, message.MSG_RESULT, 0, 1, 1, 0)
        case("wrap_" + label, message.MSG_RESULT, seq=1, data_len=n)
    case("big_70000", message.MSG_RESULT, seq=2, data_len=70000)
    case("big_70000_hmac", message.MSG_RESULT, seq=2, data_len=70000, hmac_key=KEY, annotations=[("CORR", CORR)])

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
