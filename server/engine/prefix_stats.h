// SPDX-License-Identifier: BSD-3-Clause
// Per-key-prefix counters behind `stats detail on|off|dump` (and -D).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace warmcache::engine {

// Thread safety: all methods may be called from any thread. Recording takes one mutex, but
// only while detail is on (off by default, as in memcached, because it is costly).
class PrefixStats {
 public:
  explicit PrefixStats(char delimiter, bool enabled) : delimiter_(delimiter), enabled_(enabled) {}

  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  void SetEnabled(bool on) { enabled_.store(on, std::memory_order_relaxed); }
  char delimiter() const { return delimiter_; }

  void RecordGet(std::string_view key, bool hit);
  void RecordSet(std::string_view key);
  void RecordDelete(std::string_view key);
  // memcached's dump: "PREFIX <p> get <n> hit <n> set <n> del <n>\r\n" lines, then "END\r\n",
  // in memcached's order (its 256-bucket murmur3 table, newest first within a bucket).
  std::string Dump() const;
  void Clear();

 private:
  struct Counts {
    uint64_t gets = 0, hits = 0, sets = 0, deletes = 0;
    uint64_t sequence = 0;  // creation order, for memcached's within-bucket order
  };
  // Keys without the delimiter have no prefix and are not counted.
  Counts* Find(std::string_view key);

  const char delimiter_;
  std::atomic<bool> enabled_;
  mutable std::mutex mu_;
  std::map<std::string, Counts, std::less<>> prefixes_;  // guarded by mu_
  uint64_t next_sequence_ = 0;                           // guarded by mu_
};

}  // namespace warmcache::engine
