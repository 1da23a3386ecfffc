// SPDX-License-Identifier: BSD-3-Clause
// What flush_all has invalidated. Shared by every tier, so a flushed item never comes back
// from any of them (and, once persisted, not after a restart either).
#pragma once

#include <atomic>
#include <cstdint>

namespace warmcache::storage {

// memcached's rule: once `oldest_live` has passed, an item is flushed if it was last stored or
// touched at or before `oldest_live`, or if its CAS is older than `oldest_cas` (which makes an
// immediate flush exact within the current second).
// Thread safety: all methods may be called from any thread.
class FlushState {
 public:
  void Set(int64_t oldest_live, uint64_t oldest_cas) {
    oldest_cas_.store(oldest_cas, std::memory_order_relaxed);
    oldest_live_.store(oldest_live, std::memory_order_release);
  }
  void SetOldestLive(int64_t oldest_live) {
    oldest_live_.store(oldest_live, std::memory_order_release);
  }

  bool IsFlushed(int64_t item_time, uint64_t item_cas, int64_t now) const {
    int64_t oldest_live = oldest_live_.load(std::memory_order_acquire);
    if (oldest_live == 0 || oldest_live > now) return false;
    uint64_t oldest_cas = oldest_cas_.load(std::memory_order_relaxed);
    return item_time <= oldest_live || (oldest_cas != 0 && item_cas != 0 && item_cas < oldest_cas);
  }

  int64_t oldest_live() const { return oldest_live_.load(std::memory_order_acquire); }
  uint64_t oldest_cas() const { return oldest_cas_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> oldest_live_{0};
  std::atomic<uint64_t> oldest_cas_{0};
};

inline bool IsExpired(uint32_t exptime, int64_t now) { return exptime != 0 && exptime <= now; }

}  // namespace warmcache::storage
