// SPDX-License-Identifier: BSD-3-Clause
// Per-thread request counters with memcached's stat names, summed when `stats` is read.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace warmcache {

// One writer (the owning loop thread), any number of readers: a relaxed load+store increment
// costs no locked instruction, and readers see a recent value.
class Counter {
 public:
  void Add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

#define WC_THREAD_COUNTERS(X) \
  X(get_cmds)                 \
  X(get_hits)                 \
  X(get_misses)               \
  X(get_expired)              \
  X(get_flushed)              \
  X(touch_cmds)               \
  X(touch_hits)               \
  X(touch_misses)             \
  X(set_cmds)                 \
  X(delete_hits)              \
  X(delete_misses)            \
  X(incr_hits)                \
  X(incr_misses)              \
  X(decr_hits)                \
  X(decr_misses)              \
  X(cas_hits)                 \
  X(cas_misses)               \
  X(cas_badval)               \
  X(flush_cmds)               \
  X(meta_cmds)                \
  X(store_too_large)          \
  X(store_no_memory)          \
  X(bytes_read)               \
  X(bytes_written)            \
  X(conn_yields)              \
  X(warm_spill_stalls)        \
  X(auth_cmds)                \
  X(auth_errors)

// Counters memcached also reports per slab class (`stats slabs`).
#define WC_CLASS_COUNTERS(X) \
  X(get_hits)                \
  X(cmd_set)                 \
  X(delete_hits)             \
  X(incr_hits)               \
  X(decr_hits)               \
  X(cas_hits)                \
  X(cas_badval)              \
  X(touch_hits)

inline constexpr int kStatClasses = 64;

struct ClassStats {
#define WC_DECLARE_COUNTER(name) Counter name;
  WC_CLASS_COUNTERS(WC_DECLARE_COUNTER)
};

struct ThreadStats {
  WC_THREAD_COUNTERS(WC_DECLARE_COUNTER)
#undef WC_DECLARE_COUNTER
  std::array<ClassStats, kStatClasses> classes;
};

// A plain-value sum of ThreadStats, for reporting and for `stats reset` baselines.
struct StatsSnapshot {
#define WC_DECLARE_VALUE(name) uint64_t name = 0;
  WC_THREAD_COUNTERS(WC_DECLARE_VALUE)
  struct Class {
    WC_CLASS_COUNTERS(WC_DECLARE_VALUE)
  };
#undef WC_DECLARE_VALUE
  std::array<Class, kStatClasses> classes{};

  void Add(const ThreadStats& t);
  // this -= baseline, saturating at zero.
  void Subtract(const StatsSnapshot& baseline);
};

}  // namespace warmcache
