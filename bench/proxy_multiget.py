#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A/B of proxy mode on one very large multi-get: for each warmcached binary given, starts 3
nodes and `warmcached --proxy -t 1` in front of them (127.0.0.1, free ports), stores KEYS keys of
SIZE bytes through the proxy, then times ROUNDS multi-gets of all of them and reads the proxy's
CPU time from /proc. Binaries run in turn, twice, so two builds are compared in the same
conditions (ratios, not absolute times). Everything started is stopped by its PID.

Usage: bench/proxy_multiget.py BINARY [BINARY ...]   (env: KEYS [10000] SIZE [1000] ROUNDS [20])
Used for the figures of commits 6ac23ac and 458b9a8 (issue #6 note)."""
import os
import socket
import subprocess
import sys
import tempfile
import time

KEYS = int(os.environ.get("KEYS", 10000))
SIZE = int(os.environ.get("SIZE", 1000))
ROUNDS = int(os.environ.get("ROUNDS", 20))
AS_ROOT = ["-u", "root"] if os.geteuid() == 0 else []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            time.sleep(0.01)  # the server is starting: poll its port
    raise SystemExit("nothing listens on port %d" % port)


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(binary):
    procs = []
    try:
        ports = [free_port() for _ in range(3)]
        for port in ports:
            procs.append(subprocess.Popen(
                [binary, "-p", str(port), "-U", "0", "-l", "127.0.0.1", "-t", "1", "-m", "256",
                 "--persistence=off"] + AS_ROOT, stderr=subprocess.DEVNULL))
        for port in ports:
            wait_port(port)
        front = free_port()
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as pool:
            pool.write("bench:\n  listen: 127.0.0.1:%d\n  hash: md5\n  distribution: ketama\n"
                       "  servers:\n" % front)
            for port in ports:
                pool.write("   - 127.0.0.1:%d:1\n" % port)
        proxy = subprocess.Popen([binary, "--proxy", "--pool", pool.name, "-t", "1"] + AS_ROOT,
                                 stderr=subprocess.DEVNULL)
        procs.append(proxy)
        wait_port(front)
        conn = socket.create_connection(("127.0.0.1", front))
        value = b"x" * SIZE
        conn.sendall(b"".join(b"set k%d 0 0 %d noreply\r\n%s\r\n" % (i, SIZE, value)
                              for i in range(KEYS)) + b"mn\r\n")
        loaded = b""
        while not loaded.endswith(b"MN\r\n"):
            loaded += conn.recv(65536)
        request = b"get " + b" ".join(b"k%d" % i for i in range(KEYS)) + b"\r\n"
        expected = sum(len(b"VALUE k%d 0 %d\r\n" % (i, SIZE)) + SIZE + 2 for i in range(KEYS)) + 5
        times = []
        cpu_before = cpu_seconds(proxy.pid)
        for _ in range(ROUNDS):
            start = time.perf_counter()
            conn.sendall(request)
            got, tail = 0, b""
            while got < expected:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    raise SystemExit("the proxy closed the connection")
                got += len(chunk)
                tail = (tail + chunk)[-5:]
            times.append(time.perf_counter() - start)
            if got != expected or tail != b"END\r\n":
                raise SystemExit("wrong reply: %d bytes, ends %r" % (got, tail))
        cpu = (cpu_seconds(proxy.pid) - cpu_before) / ROUNDS
        os.unlink(pool.name)
        times.sort()
        print("%s: %d-key multi-get of %d B values: median %.1f ms, min %.1f ms; proxy CPU %.1f ms"
              " per multi-get" % (binary, KEYS, SIZE, times[len(times) // 2] * 1e3,
                                  times[0] * 1e3, cpu * 1e3))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for _ in range(2):
        for binary in sys.argv[1:]:
            run(binary)
