#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Writes the seed corpus for binary_codec_fuzz into fuzz/corpus/binary/. Each file is one
# byte choosing the value limit (see the fuzz target: 2 -> 8 bytes, 4 -> 1 MiB) followed by
# request frames: one valid frame per opcode, pipelines, and the malformed frames probed
# against memcached (tests/probes/binary_probe.py).
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "binary")


def frame(op, key=b"", extras=b"", value=b"", opaque=0, cas=0, magic=0x80, keylen=None,
          extlen=None, bodylen=None):
    kl = len(key) if keylen is None else keylen
    el = len(extras) if extlen is None else extlen
    bl = len(extras) + len(key) + len(value) if bodylen is None else bodylen
    return struct.pack(">BBHBBHIIQ", magic, op, kl, el, 0, 0, bl, opaque, cas) + extras + key + value


def store(op, key, value, flags=0, exptime=0, **kw):
    return frame(op, key, struct.pack(">II", flags, exptime), value, **kw)


def delta(op, key, amount=1, initial=0, exptime=0):
    return frame(op, key, struct.pack(">QQI", amount, initial, exptime))


X4 = struct.pack(">I", 100)
BIG, SMALL = b"\x04", b"\x02"
SEEDS = {
    "get": BIG + frame(0x00, b"key", opaque=7),
    "getq": BIG + frame(0x09, b"key"),
    "getk": BIG + frame(0x0C, b"key"),
    "getkq": BIG + frame(0x0D, b"key"),
    "set": BIG + store(0x01, b"k", b"hello", flags=0xDEADBEEF, exptime=0xFFFFFFFF),
    "setq_cas": BIG + store(0x11, b"k", b"v", cas=5),
    "add": BIG + store(0x02, b"k", b"v"),
    "addq": BIG + store(0x12, b"k", b"v"),
    "replace": BIG + store(0x03, b"k", b"v"),
    "replaceq": BIG + store(0x13, b"k", b"v"),
    "append": BIG + frame(0x0E, b"k", value=b"tail"),
    "appendq": BIG + frame(0x19, b"k", value=b"tail"),
    "prepend": BIG + frame(0x0F, b"k", value=b"head"),
    "prependq": BIG + frame(0x1A, b"k", value=b"head"),
    "delete": BIG + frame(0x04, b"k"),
    "deleteq": BIG + frame(0x14, b"k"),
    "incr": BIG + delta(0x05, b"n", 5, 10),
    "incrq": BIG + delta(0x15, b"n"),
    "decr": BIG + delta(0x06, b"n", 1, 0, 0xFFFFFFFF),
    "decrq": BIG + delta(0x16, b"n"),
    "touch": BIG + frame(0x1C, b"k", X4),
    "gat": BIG + frame(0x1D, b"k", X4),
    "gatq": BIG + frame(0x1E, b"k", X4),
    "gatk": BIG + frame(0x23, b"k", X4),
    "gatkq": BIG + frame(0x24, b"k", X4),
    "flush": BIG + frame(0x08),
    "flush_exptime": BIG + frame(0x08, extras=X4),
    "flushq": BIG + frame(0x18),
    "noop": BIG + frame(0x0A, opaque=0x1234),
    "version": BIG + frame(0x0B),
    "quit": BIG + frame(0x07),
    "quitq": BIG + frame(0x17),
    "stat": BIG + frame(0x10),
    "stat_settings": BIG + frame(0x10, b"settings"),
    "verbosity": BIG + frame(0x1B, extras=X4),
    "sasl_list": BIG + frame(0x20),
    "sasl_auth": BIG + frame(0x21, b"PLAIN", value=b"\0u\0p"),
    "sasl_step": BIG + frame(0x22, b"PLAIN", value=b"\0u\0p"),
    "pipeline": BIG + store(0x11, b"p", b"one") + frame(0x09, b"p") + frame(0x0D, b"q")
    + delta(0x05, b"n") + frame(0x10, b"items") + frame(0x0A),
    "too_large_then_get": SMALL + store(0x01, b"big", b"x" * 20) + frame(0x00, b"big"),
    "too_large_header_only": BIG + store(0x01, b"big", b"", bodylen=11 + (2 << 20)),
    "bad_magic": BIG + frame(0x0A) + frame(0x0A, magic=0x81),
    "keylen_over_body": BIG + frame(0x00, b"abcde", bodylen=3),
    "key_251": BIG + frame(0x00, b"k" * 251),
    "head_over_16k": BIG + frame(0x00, b"", keylen=0xFFFF, extlen=0xFF, bodylen=0xFFFF),
    "get_with_extras": BIG + frame(0x00, b"g", X4),
    "set_extlen_4": BIG + frame(0x01, b"k", X4, b"v"),
    "incr_with_value": BIG + frame(0x05, b"k", b"\0" * 20, b"1"),
    "flush_extlen_8": BIG + frame(0x08, extras=b"\0" * 8),
    "unknown_with_key": BIG + frame(0x50, b"abc") + b"PAD" + frame(0x0A),
    "unknown_huge_body": BIG + frame(0xFF, bodylen=0xFFFFFFFF),
    "touch_with_noop_value": BIG + frame(0x1C, b"k", X4, frame(0x0A, opaque=0x77)),
    "truncated_header": BIG + frame(0x0A)[:10],
    "truncated_body": BIG + frame(0x00, b"abcdef")[:27],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
