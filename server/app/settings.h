// SPDX-License-Identifier: BSD-3-Clause
// Every option warmcached takes: memcached's flags (same names, same defaults) plus its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace warmcache::app {

struct Settings {
  // Network
  int port = 11211;                 // -p; 0 = no TCP; -1 = an ephemeral port
  int udp_port = 0;                 // -U (UDP is not served; see docs/compatibility.md)
  std::vector<std::string> listen;  // -l, each "host" or "host:port"
  std::string unix_socket;          // -s (disables TCP, as in memcached)
  int unix_mask = 0700;             // -a
  int backlog = 1024;               // -b
  int max_connections = 1024;       // -c
  bool maxconns_fast = true;        // -o maxconns_fast / no_maxconns_fast
  int threads = 4;                  // -t
  int reqs_per_event = 20;          // -R
  std::string protocol = "auto";    // -B auto|ascii|binary
  int idle_timeout = 0;             // -o idle_timeout
  // Memory
  size_t memory_limit = 64u << 20;     // -m, bytes
  bool evictions = true;               // -M turns off
  size_t item_size_max = 1u << 20;     // -I
  double growth_factor = 1.25;         // -f
  size_t chunk_size = 48;              // -n
  int hashpower = 0;                   // -o hashpower
  size_t slab_chunk_max = 512 * 1024;  // -o slab_chunk_max (reported only)
  // Behaviour
  bool use_cas = true;            // -C turns off
  bool flush_enabled = true;      // -F turns off
  bool shutdown_enabled = false;  // -A
  bool dump_enabled = true;       // -X turns off
  bool watch_enabled = true;      // -W turns off
  bool lru_crawler = true;        // -o no_lru_crawler
  int lru_crawler_sleep = 100;
  int lru_crawler_tocrawl = 0;
  char prefix_delimiter = ':';  // -D
  bool detail_enabled = false;  // -D turns on
  // Warm tier (warmcache's own)
  bool persistence = true;            // --persistence=on|off
  std::string data_dir;               // --data-dir; empty = derived from the port
  uint64_t disk_limit = 10ull << 30;  // --disk-limit
  int warm_io_threads = 2;            // --warm-io-threads
  size_t compress_min = 64;           // --compress-min: smaller values are stored raw
  int compress_level = 3;             // --compress-level: zstd level
  int snapshot_interval = 60;         // --snapshot-interval: seconds (0: at shutdown only)
  bool write_through = false;         // --durability=write-through (default: snapshot)
  bool discard_damaged = false;       // --damaged-data=discard (default: fail)
  std::string snapshot_dir;           // --snapshot-dir: snapshot files (empty: none)
  int snapshot_keep = 3;              // --snapshot-keep: files kept there
  int snapshot_file_interval = 3600;  // --snapshot-file-interval: seconds (0: on request)
  std::string restore_from;           // --restore-from: a snapshot file for an empty data dir
  // Proxy mode (warmcache's own): route to a pool of nodes instead of caching
  bool proxy = false;         // --proxy
  std::string pool_file;      // --pool: a twemproxy (nutcracker) YAML pool file
  std::string pool_name;      // --pool-name: which pool of the file (needed if it holds several)
  bool listen_given = false;  // -p, -l or -s was on the command line (else the pool's listen)
  // Process
  int verbose = 0;           // -v, -vv, -vvv
  bool daemonize = false;    // -d
  std::string user;          // -u
  std::string pid_file;      // -P
  bool lock_memory = false;  // -k
  bool coredumps = false;    // -r
  std::string log_file;      // "logfile" in a Debian-style config file
  std::string config_file;   // --config
  // Options accepted for compatibility that have no effect here: one line each at startup.
  std::vector<std::string> ignored;
};

}  // namespace warmcache::app
