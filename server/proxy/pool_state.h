// SPDX-License-Identifier: BSD-3-Clause
// One loaded pool file as every worker shares it: the configuration, each node's health
// (consecutive failures, ejection as twemproxy's auto_eject_hosts does it) and each node's
// counters for `stats`. A SIGHUP reload makes a new PoolState; workers switch to it on their
// loop thread, and requests already sent finish against the old one.
//
// Thread safety: everything may be called from any thread (atomics only).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "server/common/clock.h"
#include "server/ring/pool_config.h"
#include "server/ring/ring.h"

namespace warmcache::proxy {

struct BackendCounters {
  std::atomic<uint64_t> requests{0};    // requests sent
  std::atomic<uint64_t> replies{0};     // replies received
  std::atomic<uint64_t> errors{0};      // requests answered by the proxy with SERVER_ERROR
  std::atomic<uint64_t> timeouts{0};    // of which the backend was silent for `timeout`
  std::atomic<uint64_t> ejections{0};   // times auto_eject_hosts took the node out
  std::atomic<uint64_t> connections{0};  // connections opened (one per worker, again after faults)
  std::atomic<uint64_t> latency_us{0};  // sum over replies, for the mean
  std::atomic<uint64_t> latency_max_us{0};
};

class PoolState {
 public:
  PoolState(ring::PoolConfig config, const Clock* clock, uint64_t generation);
  PoolState(const PoolState&) = delete;
  PoolState& operator=(const PoolState&) = delete;

  const ring::PoolConfig& config() const { return config_; }
  int size() const { return static_cast<int>(config_.servers.size()); }
  uint64_t generation() const { return generation_; }
  // Every node, ignoring health: where replicas are placed.
  const ring::Ring& full_ring() const { return full_ring_; }

  // A request to `node` failed (connect refused, reset, timeout). With auto_eject_hosts, the
  // server_failure_limit-th consecutive failure ejects it for server_retry_timeout.
  void RecordFailure(int node);
  // A reply arrived: the consecutive-failure count starts again.
  void RecordSuccess(int node) {
    if (health_[node].failures.load(std::memory_order_relaxed) != 0) {
      health_[node].failures.store(0, std::memory_order_relaxed);
    }
  }
  // Changes whenever a node is ejected; a worker rebuilds its live ring when it differs.
  uint64_t health_epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Fills `live` (one entry per node) for monotonic time `now_us`; returns the earliest time
  // an ejected node comes back (INT64_MAX if none is ejected).
  int64_t LiveMask(int64_t now_us, std::vector<bool>* live) const;
  bool IsEjected(int node, int64_t now_us) const {
    return health_[node].ejected_until_us.load(std::memory_order_relaxed) > now_us;
  }
  BackendCounters& counters(int node) { return counters_[node]; }
  const BackendCounters& counters(int node) const { return counters_[node]; }
  const Clock* clock() const { return clock_; }

 private:
  struct Health {
    std::atomic<int> failures{0};
    std::atomic<int64_t> ejected_until_us{0};
  };
  const ring::PoolConfig config_;
  const Clock* clock_;
  const uint64_t generation_;
  const ring::Ring full_ring_;
  std::unique_ptr<Health[]> health_;
  std::unique_ptr<BackendCounters[]> counters_;
  std::atomic<uint64_t> epoch_{0};
};

}  // namespace warmcache::proxy
