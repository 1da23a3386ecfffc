#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# Probes memcached's binary protocol: sends hand-built frames and prints every reply in hex
# with its header decoded. The output is the evidence behind server/protocol/BINARY.md.
#
# Usage: tests/probes/binary_probe.py [--server /usr/bin/memcached] [--only SUBSTRING]
# Starts its own fresh server (so CAS values are reproducible), runs every case on a new
# connection, stops the server by PID. Each case ends with a NOOP sentinel (opaque
# 0x5e5e5e5e) unless it expects the connection to close: reading stops at the sentinel's
# reply, at EOF, or after a bounded wait that is reported as TIMEOUT.
import argparse
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

REQ = 0x80
OP = dict(GET=0x00, SET=0x01, ADD=0x02, REPLACE=0x03, DELETE=0x04, INCR=0x05, DECR=0x06,
          QUIT=0x07, FLUSH=0x08, GETQ=0x09, NOOP=0x0A, VERSION=0x0B, GETK=0x0C, GETKQ=0x0D,
          APPEND=0x0E, PREPEND=0x0F, STAT=0x10, SETQ=0x11, ADDQ=0x12, REPLACEQ=0x13,
          DELETEQ=0x14, INCRQ=0x15, DECRQ=0x16, QUITQ=0x17, FLUSHQ=0x18, APPENDQ=0x19,
          PREPENDQ=0x1A, VERBOSITY=0x1B, TOUCH=0x1C, GAT=0x1D, GATQ=0x1E, SASL_LIST=0x20,
          SASL_AUTH=0x21, SASL_STEP=0x22, GATK=0x23, GATKQ=0x24)
SENTINEL_OPAQUE = 0x5E5E5E5E
WAIT = 1.0  # seconds without a byte before a read is reported as TIMEOUT


def frame(op, key=b"", extras=b"", value=b"", opaque=0, cas=0, magic=REQ, keylen=None,
          extlen=None, bodylen=None, datatype=0, vbucket=0):
    """A request frame; keylen/extlen/bodylen override the computed lengths."""
    if isinstance(op, str):
        op = OP[op]
    kl = len(key) if keylen is None else keylen
    el = len(extras) if extlen is None else extlen
    bl = len(extras) + len(key) + len(value) if bodylen is None else bodylen
    hdr = struct.pack(">BBHBBHIIQ", magic, op, kl, el, datatype, vbucket, bl, opaque, cas)
    return hdr + extras + key + value


def store(op, key, value, flags=0, exptime=0, **kw):
    return frame(op, key, struct.pack(">II", flags, exptime), value, **kw)


def delta(op, key, amount, initial=0, exptime=0, **kw):
    return frame(op, key, struct.pack(">QQI", amount, initial, exptime), **kw)


def exptime_extras(exptime):
    return struct.pack(">I", exptime)


NOOP_SENTINEL = frame("NOOP", opaque=SENTINEL_OPAQUE)


def decode(buf):
    """Splits replies; returns (lines, rest)."""
    lines = []
    stats = 0  # stat packets past the first few are counted, not shown: values vary per run
    while len(buf) >= 24:
        (magic, op, kl, el, dt, status, bl, opaque, cas) = struct.unpack(">BBHBBHIIQ", buf[:24])
        if len(buf) < 24 + bl:
            break
        if op == OP["STAT"] and kl > 0 and status == 0:
            stats += 1
            if stats > 3:
                buf = buf[24 + bl:]
                continue
        elif stats > 3:
            lines.append("< ... %d more stat packets like the above" % (stats - 3))
            stats = 0
        body = buf[24:24 + bl]
        extras, key, value = body[:el], body[el:el + kl], body[el + kl:]
        lines.append("< magic=%02x op=%02x status=%04x keylen=%d extlen=%d datatype=%d "
                     "bodylen=%d opaque=%08x cas=%d" % (magic, op, status, kl, el, dt, bl,
                                                       opaque, cas))
        if extras:
            lines.append("<   extras=%s" % extras.hex(" "))
        if key:
            lines.append("<   key=%r" % key)
        if value:
            shown = value if len(value) <= 80 else value[:80] + b"..."
            lines.append("<   value=%r" % shown)
        lines.append("<   hex=%s" % buf[:24 + bl][:96].hex(" ") + (" ..." if bl > 72 else ""))
        buf = buf[24 + bl:]
    return lines, buf


def saw_sentinel(buf):
    off = 0
    while len(buf) - off >= 24:
        op, bl, opaque = buf[off + 1], struct.unpack(">I", buf[off + 8:off + 12])[0], \
            struct.unpack(">I", buf[off + 12:off + 16])[0]
        if op == OP["NOOP"] and opaque == SENTINEL_OPAQUE and buf[off] == 0x81:
            return True
        off += 24 + bl
    return False


def read_replies(sock, until):
    """Reads until the sentinel reply, EOF, or WAIT seconds of silence."""
    buf = b""
    sock.settimeout(WAIT)
    while True:
        if until == "sentinel" and saw_sentinel(buf):
            return buf, "sentinel"
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            return buf, "TIMEOUT (no byte for %.1fs; connection still open)" % WAIT
        except ConnectionResetError:
            return buf, "CLOSED (reset)"
        if not chunk:
            return buf, "CLOSED"
        buf += chunk


class Case:
    def __init__(self, name, sends, until="sentinel", half_close=False, note="",
                 stepwise=False):
        self.name, self.sends, self.until, self.half_close = name, sends, until, half_close
        self.note, self.stepwise = note, stepwise


def last_cas(buf):
    cas = 0
    while len(buf) >= 24:
        bl = struct.unpack(">I", buf[8:12])[0]
        if buf[1] != OP["NOOP"]:
            cas = struct.unpack(">Q", buf[16:24])[0]
        buf = buf[24 + bl:]
    return cas


def run_stepwise(port, case, out):
    out.append("## " + case.name)
    if case.note:
        out.append("# " + case.note)
    sock = socket.create_connection(("127.0.0.1", port))
    cas = 0
    for step in case.sends:
        data = step(cas) if callable(step) else step
        out.append("> " + data[:64].hex(" "))
        out.append("> " + NOOP_SENTINEL.hex(" "))
        sock.sendall(data + NOOP_SENTINEL)
        buf, how = read_replies(sock, "sentinel")
        lines, _ = decode(buf)
        out.extend(lines)
        cas = last_cas(buf)
        if how != "sentinel":
            break
    out.append("= " + how)
    out.append("")
    sock.close()


def run_case(port, case, out):
    if case.stepwise:
        return run_stepwise(port, case, out)
    out.append("## " + case.name)
    if case.note:
        out.append("# " + case.note)
    sock = socket.create_connection(("127.0.0.1", port))
    sends = list(case.sends)
    if case.until == "sentinel":
        sends.append(NOOP_SENTINEL)
    for data in sends:
        shown = data[:64].hex(" ") + (" ... (%d bytes)" % len(data) if len(data) > 64 else "")
        out.append("> " + shown)
    try:
        sock.sendall(b"".join(sends))
    except (BrokenPipeError, ConnectionResetError) as e:
        out.append("! send failed: %s" % e)
    if case.half_close:
        sock.shutdown(socket.SHUT_WR)
    buf, how = read_replies(sock, case.until)
    lines, rest = decode(buf)
    out.extend(lines)
    if rest:
        out.append("< partial=%s" % rest.hex(" "))
    out.append("= " + how)
    out.append("")
    sock.close()


def cases():
    big = 2 * 1024 * 1024
    k250 = b"k" * 250
    k251 = b"k" * 251
    c = []
    # ---- get family ------------------------------------------------------------------
    c.append(Case("get miss", [frame("GET", b"nokey", opaque=0x11223344)]))
    c.append(Case("getq miss", [frame("GETQ", b"nokey", opaque=1)]))
    c.append(Case("getk miss", [frame("GETK", b"nokey", opaque=2)]))
    c.append(Case("getkq miss", [frame("GETKQ", b"nokey", opaque=3)]))
    c.append(Case("get family hit", [
        store("SET", b"g1", b"hello", flags=0xDEADBEEF, opaque=9),
        frame("GET", b"g1", opaque=10), frame("GETQ", b"g1", opaque=11),
        frame("GETK", b"g1", opaque=12), frame("GETKQ", b"g1", opaque=13)]))
    c.append(Case("get with request cas is ignored", [frame("GET", b"g1", cas=12345)]))
    c.append(Case("get with 4 extras", [frame("GET", b"g1", extras=b"\0\0\0\0")],
                  note="extras not allowed"))
    c.append(Case("get without key", [frame("GET")]))
    c.append(Case("get with a value", [frame("GET", b"g1", value=b"xx")]))
    c.append(Case("get key 250", [frame("GET", k250)]))
    c.append(Case("get key 251", [frame("GET", k251)]))
    c.append(Case("getq pipeline hit/miss", [
        store("SET", b"p1", b"one"), frame("GETQ", b"p1", opaque=1),
        frame("GETQ", b"p2", opaque=2), frame("GETKQ", b"p1", opaque=3),
        frame("GETKQ", b"p2", opaque=4)]))
    c.append(Case("get empty value, zero flags", [store("SET", b"empty", b""),
                                                  frame("GET", b"empty")]))
    # ---- set / add / replace ---------------------------------------------------------
    c.append(Case("set success", [store("SET", b"s1", b"v", flags=7, opaque=0xAA)]))
    c.append(Case("setq success silent", [store("SETQ", b"s2", b"v", opaque=0xAB)]))
    c.append(Case("set extlen 0", [frame("SET", b"s3", value=b"v")]))
    c.append(Case("set extlen 4", [frame("SET", b"s3", extras=b"\0\0\0\0", value=b"v")]))
    c.append(Case("set extlen 12", [frame("SET", b"s3", extras=b"\0" * 12, value=b"v")]))
    c.append(Case("set without key", [store("SET", b"", b"v")]))
    c.append(Case("set key 251", [store("SET", k251, b"v")]))
    c.append(Case("set key 250", [store("SET", k250, b"v")]))
    c.append(Case("set cas match/mismatch/missing", [
        store("SET", b"c1", b"a", opaque=1),
        frame("GETK", b"c1", opaque=2),
        store("SET", b"c1", b"b", cas=999999, opaque=3),
        store("SET", b"nocas", b"b", cas=5, opaque=4)]))
    c.append(Case("set cas match", [
        store("SET", b"c2", b"a"), frame("GET", b"c2")]))
    c.append(Case("setq cas mismatch", [store("SET", b"c3", b"a"),
                                        store("SETQ", b"c3", b"b", cas=999999, opaque=5)]))
    c.append(Case("add new/existing", [store("ADD", b"a1", b"x", opaque=1),
                                       store("ADD", b"a1", b"y", opaque=2)]))
    c.append(Case("addq existing", [store("ADD", b"a2", b"x"),
                                    store("ADDQ", b"a2", b"y", opaque=3)]))
    c.append(Case("addq new silent", [store("ADDQ", b"a3", b"x")]))
    c.append(Case("add with cas on missing", [store("ADD", b"a4", b"x", cas=77)]))
    c.append(Case("replace missing/existing", [
        store("REPLACE", b"r1", b"x", opaque=1), store("SET", b"r1", b"x", opaque=2),
        store("REPLACE", b"r1", b"y", opaque=3)]))
    c.append(Case("replaceq missing", [store("REPLACEQ", b"r2", b"x", opaque=4)]))
    c.append(Case("set exptime ffffffff then get", [
        store("SET", b"e1", b"x", exptime=0xFFFFFFFF), frame("GET", b"e1")]))
    c.append(Case("set value 2MB > -I", [store("SET", b"big", b"x" * big, opaque=0x42)],
                  note="default -I 1m"))
    c.append(Case("setq value 2MB > -I", [store("SETQ", b"big", b"x" * big, opaque=0x43)]))
    c.append(Case("set too large header only", [
        store("SET", b"big2", b"", bodylen=8 + 4 + big, opaque=0x44)], until="timeout",
        note="only header+extras+key sent: does it answer before the value arrives?"))
    c.append(Case("set too large removes old value", [
        store("SET", b"big3", b"old"), store("SET", b"big3", b"x" * big),
        frame("GET", b"big3")]))
    c.append(Case("set value 1048000 (under -I, over item limit?)", [
        store("SET", b"near", b"x" * (1024 * 1024 - 100))]))
    c.append(Case("add too large", [store("ADD", b"big4", b"x" * big)]))
    # ---- delete ----------------------------------------------------------------------
    c.append(Case("delete hit/miss", [store("SET", b"d1", b"x"),
                                      frame("DELETE", b"d1", opaque=1),
                                      frame("DELETE", b"d1", opaque=2)]))
    c.append(Case("deleteq hit silent, miss", [store("SET", b"d2", b"x"),
                                               frame("DELETEQ", b"d2", opaque=3),
                                               frame("DELETEQ", b"d2", opaque=4)]))
    c.append(Case("delete with 4 extras", [frame("DELETE", b"d3", extras=b"\0\0\0\0")]))
    c.append(Case("delete with value", [frame("DELETE", b"d3", value=b"x")]))
    c.append(Case("delete without key", [frame("DELETE")]))
    c.append(Case("delete cas mismatch", [store("SET", b"d4", b"x"),
                                          frame("DELETE", b"d4", cas=999999)]))
    # ---- incr / decr -----------------------------------------------------------------
    c.append(Case("incr miss creates initial", [
        delta("INCR", b"i1", 5, initial=10, opaque=1), delta("INCR", b"i1", 5, opaque=2),
        frame("GET", b"i1", opaque=3)]))
    c.append(Case("decr miss creates initial, then below zero", [
        delta("DECR", b"i2", 5, initial=3, opaque=1), delta("DECR", b"i2", 5, opaque=2)]))
    c.append(Case("incr miss exptime ffffffff", [
        delta("INCR", b"i3", 1, initial=1, exptime=0xFFFFFFFF)]))
    c.append(Case("incr non-numeric", [store("SET", b"i4", b"abc"), delta("INCR", b"i4", 1)]))
    c.append(Case("incr wraps at 2^64", [store("SET", b"i5", b"18446744073709551615"),
                                         delta("INCR", b"i5", 2)]))
    c.append(Case("incrq hit silent, miss no-create", [
        delta("INCRQ", b"i6", 1, initial=7, opaque=1), delta("INCRQ", b"i6", 1, opaque=2),
        delta("INCRQ", b"i7", 1, exptime=0xFFFFFFFF, opaque=3), frame("GET", b"i6")]))
    c.append(Case("decrq non-numeric", [store("SET", b"i8", b"abc"),
                                        delta("DECRQ", b"i8", 1, opaque=9)]))
    c.append(Case("incr extlen 0", [frame("INCR", b"i9")]))
    c.append(Case("incr with value", [frame("INCR", b"i9", extras=b"\0" * 20, value=b"1")]))
    c.append(Case("incr without key", [frame("INCR", extras=b"\0" * 20)]))
    c.append(Case("incr cas mismatch", [store("SET", b"i10", b"1"),
                                        delta("INCR", b"i10", 1, cas=999999)]))
    c.append(Case("incr created item flags/exptime", [
        delta("INCR", b"i11", 1, initial=42, exptime=100), frame("GETK", b"i11")]))
    c.append(Case("incr value with leading spaces", [store("SET", b"i12", b" 12"),
                                                    delta("INCR", b"i12", 1)]))
    c.append(Case("incr on long numeric value", [store("SET", b"i13", b"1" * 25),
                                                delta("INCR", b"i13", 1)]))
    # ---- append / prepend ------------------------------------------------------------
    c.append(Case("append/prepend miss", [frame("APPEND", b"ap1", value=b"x", opaque=1),
                                          frame("PREPEND", b"ap1", value=b"x", opaque=2)]))
    c.append(Case("appendq/prependq miss", [frame("APPENDQ", b"ap1", value=b"x", opaque=1),
                                            frame("PREPENDQ", b"ap1", value=b"x", opaque=2)]))
    c.append(Case("append/prepend hit", [
        store("SET", b"ap2", b"mid", flags=5), frame("APPEND", b"ap2", value=b">>", opaque=1),
        frame("PREPEND", b"ap2", value=b"<<", opaque=2), frame("APPENDQ", b"ap2", value=b"!"),
        frame("GET", b"ap2")]))
    c.append(Case("append with 8 extras", [frame("APPEND", b"ap3", extras=b"\0" * 8,
                                                 value=b"x")]))
    c.append(Case("append without key", [frame("APPEND", value=b"x")]))
    c.append(Case("append empty value", [store("SET", b"ap4", b"z"), frame("APPEND", b"ap4"),
                                         frame("GET", b"ap4")]))
    c.append(Case("append cas mismatch", [store("SET", b"ap5", b"z"),
                                          frame("APPEND", b"ap5", value=b"y", cas=999999)]))
    c.append(Case("append too large", [store("SET", b"ap6", b"z"),
                                       frame("APPEND", b"ap6", value=b"y" * big)]))
    # ---- quit ------------------------------------------------------------------------
    c.append(Case("quit", [frame("QUIT", opaque=0x77)], until="eof"))
    c.append(Case("quitq", [frame("QUITQ", opaque=0x78)], until="eof"))
    c.append(Case("quit with key", [frame("QUIT", b"k")], until="eof"))
    c.append(Case("getq miss then quitq", [frame("GETQ", b"nokey"), frame("QUITQ")],
                  until="eof"))
    # ---- noop / version --------------------------------------------------------------
    c.append(Case("noop", [frame("NOOP", opaque=0x1234)]))
    c.append(Case("noop with key", [frame("NOOP", b"k")]))
    c.append(Case("version", [frame("VERSION", opaque=0x99)]))
    c.append(Case("version with extras", [frame("VERSION", extras=b"\0\0\0\0")]))
    # ---- touch / gat -----------------------------------------------------------------
    c.append(Case("touch hit/miss", [store("SET", b"t1", b"val", flags=3),
                                     frame("TOUCH", b"t1", exptime_extras(100), opaque=1),
                                     frame("TOUCH", b"t0", exptime_extras(100), opaque=2)]))
    c.append(Case("gat family hit", [store("SET", b"t2", b"val", flags=3),
                                     frame("GAT", b"t2", exptime_extras(100), opaque=1),
                                     frame("GATQ", b"t2", exptime_extras(100), opaque=2),
                                     frame("GATK", b"t2", exptime_extras(100), opaque=3),
                                     frame("GATKQ", b"t2", exptime_extras(100), opaque=4)]))
    c.append(Case("gat family miss", [frame("GAT", b"t0", exptime_extras(100), opaque=1),
                                      frame("GATQ", b"t0", exptime_extras(100), opaque=2),
                                      frame("GATK", b"t0", exptime_extras(100), opaque=3),
                                      frame("GATKQ", b"t0", exptime_extras(100), opaque=4)]))
    c.append(Case("touch exptime ffffffff keeps item", [
        store("SET", b"t3", b"val"), frame("TOUCH", b"t3", exptime_extras(0xFFFFFFFF)),
        frame("GET", b"t3")]))
    c.append(Case("touch extlen 0", [frame("TOUCH", b"t1")]))
    c.append(Case("touch without key", [frame("TOUCH", extras=exptime_extras(1))]))
    c.append(Case("touch with value", [frame("TOUCH", b"t1", exptime_extras(1), b"v")]))
    c.append(Case("gat with value", [frame("GAT", b"t1", exptime_extras(1), b"v")]))
    # ---- verbosity / sasl ------------------------------------------------------------
    c.append(Case("verbosity 4 extras", [frame("VERBOSITY", extras=exptime_extras(1))]))
    c.append(Case("verbosity no extras", [frame("VERBOSITY")]))
    c.append(Case("sasl list mechs", [frame("SASL_LIST")]))
    c.append(Case("sasl auth", [frame("SASL_AUTH", b"PLAIN", value=b"\0u\0p")]))
    c.append(Case("sasl step", [frame("SASL_STEP", b"PLAIN", value=b"\0u\0p")]))
    c.append(Case("sasl auth without key", [frame("SASL_AUTH")]))
    c.append(Case("sasl list mechs with key", [frame("SASL_LIST", b"x")]))
    # ---- stat ------------------------------------------------------------------------
    c.append(Case("stat settings", [frame("STAT", b"settings", opaque=0x31)]))
    c.append(Case("stat unknown key", [frame("STAT", b"bogus", opaque=0x32)]))
    c.append(Case("stat reset", [frame("STAT", b"reset", opaque=0x33)]))
    c.append(Case("stat with extras", [frame("STAT", extras=b"\0\0\0\0")]))
    c.append(Case("stat items", [frame("STAT", b"items")]))
    c.append(Case("stat slabs", [frame("STAT", b"slabs")]))
    c.append(Case("stat sizes", [frame("STAT", b"sizes")]))
    c.append(Case("stat conns", [frame("STAT", b"conns")]))
    c.append(Case("stat detail dump", [frame("STAT", b"detail dump")]))
    c.append(Case("stat detail on", [frame("STAT", b"detail on")]))
    c.append(Case("stat cachedump", [frame("STAT", b"cachedump 1 1")]))
    c.append(Case("stat with trailing value bytes", [frame("STAT", b"reset", value=b"xyz")],
                  note="bodylen > keylen: are the extra bytes skipped?"))
    c.append(Case("stat general (first and last packets)", [frame("STAT", opaque=0x30)]))
    # ---- flush -----------------------------------------------------------------------
    c.append(Case("flush no extras", [store("SET", b"f1", b"x"), frame("FLUSH", opaque=1),
                                      frame("GET", b"f1")]))
    c.append(Case("flush with exptime", [frame("FLUSH", extras=exptime_extras(0), opaque=2)]))
    c.append(Case("flushq silent", [frame("FLUSHQ", opaque=3)]))
    c.append(Case("flush extlen 8", [frame("FLUSH", extras=b"\0" * 8)]))
    c.append(Case("flush with key", [frame("FLUSH", b"k")]))
    c.append(Case("flush with value", [frame("FLUSH", value=b"v")]))
    c.append(Case("flush future then get", [
        store("SET", b"f2", b"x"), frame("FLUSH", extras=exptime_extras(100)),
        frame("GET", b"f2")]))
    # ---- malformed frames ------------------------------------------------------------
    c.append(Case("bad magic 0x81 after noop", [frame("NOOP", opaque=1),
                                               frame("NOOP", magic=0x81)]))
    c.append(Case("bad magic 0x00 after noop", [frame("NOOP", opaque=1),
                                               frame("GET", b"k", magic=0x00)]))
    c.append(Case("first byte 0x81 (not binary)", [frame("NOOP", magic=0x81)], until="eof",
                  half_close=True))
    c.append(Case("keylen > bodylen", [frame("GET", b"abcde", bodylen=3)]))
    c.append(Case("keylen+extlen > bodylen (set)", [
        store("SET", b"abc", b"", bodylen=9, opaque=0x66)]))
    c.append(Case("keylen > bodylen header only", [frame("GET", b"", keylen=5, bodylen=0)],
                  until="timeout", note="header only: does it wait for the key bytes?"))
    c.append(Case("keylen > bodylen, key bytes sent", [
        frame("GET", b"", keylen=5, bodylen=0) + b"abcde"]))
    c.append(Case("unknown opcode 0x50 empty", [frame(0x50, opaque=0xCAFE)]))
    c.append(Case("unknown opcode 0x50 with key and value", [
        frame(0x50, b"key", value=b"value", opaque=0xCAFE)],
        note="how many bytes are swallowed?"))
    c.append(Case("unknown opcode 0x50 with body 3 then sentinel", [
        frame(0x50, value=b"abc", opaque=0xCAFE)]))
    c.append(Case("unknown opcode 0x50 with key 3 then sentinel", [
        frame(0x50, b"abc", opaque=0xCAFE)]))
    c.append(Case("unknown opcode 0xff", [frame(0xFF, opaque=1)]))
    c.append(Case("unknown opcode body beyond -I", [frame(0x50, bodylen=big)],
                  until="timeout"))
    c.append(Case("get body beyond -I", [frame("GET", b"abc", bodylen=big)]))
    c.append(Case("stat body beyond -I", [frame("STAT", b"abc", bodylen=big)],
                  until="timeout"))
    c.append(Case("get keylen 0xffff header only", [frame("GET", b"", keylen=0xFFFF,
                                                          bodylen=0xFFFF)], until="timeout"))
    c.append(Case("get keylen 0xffff with key bytes", [frame("GET", b"k" * 0xFFFF)]))
    c.append(Case("get keylen 20000 with key bytes", [frame("GET", b"k" * 20000)]))
    c.append(Case("get keylen 16000 with key bytes", [frame("GET", b"k" * 16000)]))
    c.append(Case("set extlen 255", [frame("SET", b"k", extras=b"\0" * 255, value=b"v")]))
    c.append(Case("truncated header then close", [frame("NOOP")[:10]], until="eof",
                  half_close=True))
    c.append(Case("truncated body then close", [frame("GET", b"abcdef")[:27]], until="eof",
                  half_close=True))
    c.append(Case("truncated set value then close", [store("SET", b"tv", b"12345")[:-2]],
                  until="eof", half_close=True))
    c.append(Case("datatype and vbucket non-zero", [frame("GET", b"g1", datatype=1,
                                                          vbucket=0xBEEF)]))
    c.append(Case("noop after 23 bytes of garbage header", [frame("NOOP")[:23]],
                  until="timeout"))
    c.append(Case("text command after binary frame", [frame("NOOP", opaque=1),
                                                      b"version\r\n"], until="eof",
                  half_close=True))
    # ---- edges found while probing -------------------------------------------------------
    c.append(Case("einval echoes opaque", [frame("GET", extras=b"\0\0\0\0", opaque=0xABCD)]))
    c.append(Case("setq einval is not quiet", [frame("SETQ", b"s3", value=b"v", opaque=0x21)]))
    c.append(Case("get hit then bad magic in one write", [frame("GET", b"g1"),
                                                         frame("GET", b"g1", magic=0x00)]))
    c.append(Case("touch with a noop frame as its value", [
        frame("TOUCH", b"g1", exptime_extras(0), frame("NOOP", opaque=0x77), opaque=0x76)],
        note="the bytes past key are parsed as the next request"))
    c.append(Case("stat with a noop frame as its value", [
        frame("STAT", b"reset", value=frame("NOOP", opaque=0x77), opaque=0x76)]))
    c.append(Case("unknown opcode with key, then key-sized padding", [
        frame(0x50, b"abc", opaque=0xCAFE) + b"PAD"],
        note="memcached swallows bodylen bytes after the key it already consumed"))
    c.append(Case("verbosity 4 extras then 4 bytes of padding", [
        frame("VERBOSITY", extras=exptime_extras(1), opaque=0x1B) + b"PADS"]))
    c.append(Case("unknown opcode key 251", [frame(0x50, b"k" * 251, opaque=0xCAFE)]))
    c.append(Case("keylen+extlen > bodylen beats key 251", [
        frame("GET", b"k" * 251, bodylen=10, opaque=0x5)]))
    c.append(Case("get keylen 16360 (frame head 16384 bytes)", [frame("GET", b"k" * 16360)]))
    c.append(Case("get keylen 16361 (frame head 16385 bytes)", [frame("GET", b"k" * 16361)]))
    c.append(Case("set key 16352 extlen 8 (head 16384)", [store("SET", b"k" * 16352, b"v")]))
    c.append(Case("set key 16353 extlen 8 (head 16385)", [store("SET", b"k" * 16353, b"v")]))
    c.append(Case("binary key with space and CRLF", [store("SET", b"a b\r\n", b"v"),
                                                   frame("GETK", b"a b\r\n")]))
    c.append(Case("set value just under -I, item over it", [
        store("SET", b"edge", b"x" * (1024 * 1024 - 20))]))
    c.append(Case("set value = -I exactly", [store("SET", b"edge", b"x" * (1024 * 1024))]))
    c.append(Case("gat exptime ffffffff keeps item", [
        store("SET", b"t4", b"val"), frame("GAT", b"t4", exptime_extras(0xFFFFFFFF)),
        frame("GET", b"t4")]))
    c.append(Case("set exptime 31 days relative is absolute past", [
        store("SET", b"e2", b"x", exptime=60 * 60 * 24 * 31), frame("GET", b"e2")]))
    c.append(Case("incr response cas and delete cas", [
        store("SET", b"i14", b"5"), delta("INCR", b"i14", 1), frame("DELETE", b"i14")]))
    c.append(Case("response datatype with datatype request", [
        frame("NOOP", datatype=0xFF, vbucket=0xFFFF, cas=7)]))
    c.append(Case("getq hit then quitq flushes", [store("SET", b"q1", b"v"),
                                                  frame("GETQ", b"q1", opaque=1),
                                                  frame("QUITQ")], until="eof"))
    c.append(Case("append making the item too large", [
        store("SET", b"ov", b"a" * 600000), frame("APPEND", b"ov", value=b"b" * 600000),
        frame("PREPENDQ", b"ov", value=b"b" * 600000, opaque=2)],
        note="the value fits -I, the joined item does not"))
    c.append(Case("add with matching cas replaces", [
        store("SET", b"ac", b"a"), frame("GETK", b"ac"),
        lambda cas: store("ADD", b"ac", b"b", cas=cas)], stepwise=True,
        note="each step is sent after the previous reply; the lambda gets the last reply's CAS"))
    c.append(Case("replace with cas mismatch", [store("SET", b"rc", b"a"),
                                                store("REPLACE", b"rc", b"b", cas=999999)]))
    c.append(Case("incr existing with exptime ffffffff", [
        store("SET", b"i15", b"5"), delta("INCR", b"i15", 1, exptime=0xFFFFFFFF)]))
    c.append(Case("touch and gat miss, quiet gat miss", [
        frame("TOUCH", b"nokey", exptime_extras(1), opaque=1),
        frame("GATQ", b"nokey", exptime_extras(1), opaque=2),
        frame("GATKQ", b"nokey", exptime_extras(1), opaque=3)]))
    return c


def start_server(binary, extra):
    fd, port_file = tempfile.mkstemp(prefix="mcport")
    os.close(fd)
    os.unlink(port_file)
    env = dict(os.environ, MEMCACHED_PORT_FILENAME=port_file)
    args = [binary, "-p", "-1", "-U", "0", "-l", "127.0.0.1"] + extra
    if os.geteuid() == 0:
        args += ["-u", "root"]
    proc = subprocess.Popen(args, env=env)
    for _ in range(200):  # bounded poll for the port file
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            with open(port_file) as f:
                for line in f:
                    if line.startswith("TCP INET:"):
                        os.unlink(port_file)
                        return proc, int(line.split(":")[1])
        if proc.poll() is not None:
            sys.exit("server exited with %d" % proc.returncode)
        time.sleep(0.05)
    proc.kill()
    sys.exit("server did not report its port")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="/usr/bin/memcached")
    ap.add_argument("--only", default="")
    ap.add_argument("--server-arg", action="append", default=[])
    args = ap.parse_args()
    proc, port = start_server(args.server, args.server_arg)
    out = ["# binary_probe.py against %s %s" % (args.server, " ".join(args.server_arg)), ""]
    try:
        for case in cases():
            if args.only in case.name:
                run_case(port, case, out)
    finally:
        proc.terminate()
        proc.wait()
    print("\n".join(out))


if __name__ == "__main__":
    main()
