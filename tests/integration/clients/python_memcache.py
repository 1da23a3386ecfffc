# SPDX-License-Identifier: BSD-3-Clause
# python-memcached (Debian python3-memcache) scenario. Usage: python_memcache.py PORT
# Prints one line per check; the test compares the output against memcached's.
import sys

import memcache

port = int(sys.argv[1])
mc = memcache.Client(["127.0.0.1:%d" % port], server_max_value_length=2 * 1024 * 1024,
                     cache_cas=True)
values = {
    "empty": b"",
    "one": b"x",
    "k100": bytes(range(256)) * 400,
    "m1": (b"\r\n\x00binary\r\n" * 104858)[:1024 * 1024],
}
for key, value in values.items():
    print("set", key, mc.set(key, value))
    got = mc.get(key)
    print("get", key, got == value, len(got) if got is not None else None)
multi = mc.get_multi(list(values) + ["missing"])
print("get_multi", sorted(multi), all(multi[k] == values[k] for k in multi))
print("delete", mc.delete("one"), mc.get("one"))
print("incr", mc.set("n", "10"), mc.incr("n", 5), mc.decr("n", 20), mc.incr("nope"))
print("add", mc.add("n", "1"), mc.add("fresh", "1"))
mc.gets("fresh")
print("cas", mc.cas("fresh", "2"), mc.get("fresh"))
mc.gets("fresh")
mc.set("fresh", "3")
print("cas stale", mc.cas("fresh", "4"), mc.get("fresh"))
print("touch", mc.touch("fresh", 100), mc.touch("nope", 100))
print("append", mc.append("fresh", "x"), mc.prepend("fresh", "y"), mc.get("fresh"))
stats = mc.get_stats()[0][1]
print("stats", "curr_items" in stats, "version" in stats)
