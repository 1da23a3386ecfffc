// SPDX-License-Identifier: BSD-3-Clause
// CrashWorkload: a writer whose every value says which write produced it, and a checker that
// reads every key back after a crash and sorts what it finds into hits, misses, stale and corrupt.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/testutil/test_client.h"

namespace warmcache::testutil {

struct CrashWorkloadOptions {
  int blob_keys = 2000;     // "blob:<i>": set, append, delete
  int counter_keys = 50;    // "ctr:<i>": set, incr
  int connections = 3;      // each owns the keys with index % connections == its number
  int pipeline_depth = 16;  // requests sent before their replies are read
  int active_percent = 25;  // writes go to this share of the keys, chosen anew per round and
                            // phase, so the others stay as earlier writes (and snapshots) left them
  size_t min_value = 100;   // the size of a set's value, uniform in [min_value, max_value]
  size_t max_value = 8192;
  uint32_t seed = 1;
};

// What one read of every key found.
struct CrashCheck {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t stale = 0;      // older than the last acknowledged write (or the last value read)
  int64_t corrupt = 0;    // bad checksum, torn segments, a version never sent, wrong flags
  int64_t lost = 0;       // strict mode only: a miss where every allowed state is a value
  int64_t uncertain = 0;  // keys skipped: an unexpected reply, or stale/corrupt before
  int64_t unread = 0;     // keys not read: the connection failed
  std::vector<std::string> examples;  // the first few problems, readable
  std::string Summary() const;
};

// What one run of the writers did.
struct WriteRun {
  int64_t sent = 0;
  int64_t acked = 0;
  int64_t errors = 0;                 // unexpected replies (not a closed connection)
  std::vector<std::string> examples;  // the first few unexpected replies
};

// Values are built from segments "<key>/<version>/<len>/<fnv64 hex>|<len payload bytes>": a set
// writes one segment, an append adds one, so a value is checkable on its own (checksums, the key)
// and against the model (which versions it holds). A counter's version is its number.
// Per key the model keeps the version of the last acknowledged write (a value the checker read
// counts as acknowledged too), the highest version sent, and the state every version since the
// last acknowledged one produced; a later read must show one of those states (or a miss, unless
// strict). Versions only grow, across crashes too.
// Thread safety: Run() uses one thread per connection, each touching only its own keys; call
// Run() and Check() from one thread, never at the same time.
class CrashWorkload {
 public:
  explicit CrashWorkload(const CrashWorkloadOptions& options);

  // Writes from options.connections connections until `stop` is set (each finishes its batch)
  // or its connection fails (the server was killed). `acked` counts acknowledged writes as they
  // come, for the caller to poll. `round` varies the random choices between runs; when `phase`
  // changes, the writers move on to another share of the keys.
  WriteRun Run(uint16_t port, uint32_t round, const std::atomic<bool>& stop,
               const std::atomic<int>& phase, std::atomic<int64_t>& acked);

  // Reads every key (multi-get) and checks it. With `strict` (write-through), a miss is allowed
  // only where the model allows one. The states read become the base of the next Run().
  CrashCheck Check(TestClient& client, bool strict);

 private:
  struct State {
    bool present = false;
    uint32_t flags = 0;
    std::vector<uint64_t> segments;  // versions of the segments; a counter: {its number}
  };
  struct Key {
    std::string name;
    bool counter = false;
    bool uncertain = false;   // an unexpected reply: the model no longer knows
    uint64_t last_acked = 0;  // the last acknowledged version (or the version last read)
    uint64_t highest_sent = 0;
    State current;                          // after every op sent so far
    std::map<uint64_t, State> since_acked;  // version -> state, for versions >= last_acked
  };
  struct Pending {
    size_t key;
    uint64_t version;
    std::string expect;  // the reply line that acknowledges it
  };
  class Connection;

  // Appends one random request for `key` to `out` and records what it will do.
  Pending AddRequest(size_t key, uint32_t random, std::string* out);
  // The keys of `connection` (index % connections) that a run writes, chosen by `salt`.
  std::vector<size_t> ActiveKeys(int connection, uint32_t salt) const;
  std::string Segment(const std::string& key, uint64_t version, size_t len) const;
  static void Acknowledge(Key& key, uint64_t version);
  void CheckValue(Key& key, uint32_t flags, const std::string& data, bool strict,
                  CrashCheck* check);
  void CheckMiss(Key& key, bool strict, CrashCheck* check);

  CrashWorkloadOptions options_;
  std::string pool_;  // payload bytes are slices of this
  std::vector<Key> keys_;
};

}  // namespace warmcache::testutil
