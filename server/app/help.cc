// SPDX-License-Identifier: BSD-3-Clause
#include "server/app/options.h"

namespace warmcache::app {

std::string HelpText() {
  return R"(warmcached: a persistent memory-and-disk cache, drop-in for memcached 1.6
Usage: warmcached [options]   (memcached's options; see docs/configuration.md)

-p, --port=<num>          TCP port to listen on (default: 11211; 0 = off, -1 = ephemeral)
-U, --udp-port=<num>      UDP port (accepted; UDP is not served)
-s, --unix-socket=<file>  UNIX socket to listen on (disables TCP)
-a, --unix-mask=<mask>    access mask for the UNIX socket, in octal (default: 700)
-A, --enable-shutdown     enable the ascii "shutdown" command
-l, --listen=<addr>       interface(s) to listen on, comma separated, host[:port]
                          (default: all interfaces)
-d, --daemon              run as a daemon
-r, --enable-coredumps    maximize core file limit
-u, --user=<user>         assume identity of <user> (only when run as root)
-m, --memory-limit=<num>  item memory in megabytes (default: 64)
-c, --conn-limit=<num>    max simultaneous connections (default: 1024)
-k, --lock-memory         lock down all paged memory
-v, --verbose             verbose (print errors/warnings); -vv also connections,
                          -vvv everything
-h, --help                print this help and exit
-i, --license             print the licence and exit
-V, --version             print the version and exit
-P, --pidfile=<file>      save PID in <file>
-f, --slab-growth-factor=<num>  chunk size growth factor for `stats slabs` (default: 1.25)
-n, --slab-min-size=<bytes>     min space for key+value+flags (default: 48)
-L, --enable-largepages   accepted; transparent huge pages are used when enabled
-D <char>                 key prefix delimiter for per-prefix stats (enables them)
-t, --threads=<num>       number of worker threads (default: 4)
-R, --max-reqs-per-event  requests per event before yielding (default: 20)
-C, --disable-cas         disable use of CAS
-b, --listen-backlog=<num> listen backlog (default: 1024)
-B, --protocol=<name>     auto or ascii (default: auto)
-I, --max-item-size=<num> max item size, k/m suffix allowed (default: 1m, min 1k, max 1g)
-F, --disable-flush-all   disable flush_all
-X, --disable-dumping     disable stats cachedump
-W, --disable-watch       disable watch commands
-o, --extended            comma-separated extended options:
   - maxconns_fast / no_maxconns_fast: refuse connections over -c at once (default)
   - hashpower=<n>:       initial hash table size, as a power of two
   - idle_timeout=<s>:    close connections idle this long (default: 0, never)
   - no_lru_crawler:      do not reclaim expired items in the background
   memcached's slab, LRU-maintainer and extstore options are accepted and ignored.
    --config=<file>       read options from a Debian-style memcached.conf first
warm tier (warmcache's own):
    --data-dir=<dir>      RocksDB database for items evicted from RAM
                          (default: /var/tmp/warmcached/port-<port>)
    --disk-limit=<size>   disk the warm tier may use, k/m/g/t suffix (default: 10g, min 16m)
    --persistence=on|off  off: no warm tier, evicted items are gone (default: on)
    --warm-io-threads=<n> threads reading the warm tier (default: 2)
    --compress-min=<size> values at least this long are zstd-compressed (default: 64)
    --compress-level=<n>  zstd level, 1..19 (default: 3)
    --snapshot-interval=<s> seconds between writes of RAM's unsaved items to disk;
                          0: only at shutdown (default: 60)
    --durability=snapshot|write-through
                          write-through: every acknowledged change survives kill -9
                          (default: snapshot: after a crash, changes since the last
                          snapshot may be missing, never older values)
    --damaged-data=fail|discard
                          a data directory that cannot be opened: fail, or delete it
                          and start empty (default: fail)
    --snapshot-dir=<dir>  write portable snapshot files here (scheduled, and on the
                          `snapshot` command); none by default
    --snapshot-file-interval=<s> seconds between scheduled snapshot files; 0: only on
                          request (default: 3600)
    --snapshot-keep=<n>   snapshot files kept in --snapshot-dir (default: 3)
    --restore-from=<file> start from this snapshot file when the data directory is empty

Proxy mode (no cache here: route each key to a pool of memcached/warmcached nodes):
    --proxy               run as a proxy; needs --pool
    --pool=<file>         a twemproxy (nutcracker.yml) pool file; listens on its
                          `listen` unless -p, -l or -s is given; SIGHUP reloads it
    --pool-name=<name>    the pool to serve when the file holds several
)";
}

}  // namespace warmcache::app
