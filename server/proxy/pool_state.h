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
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/clock.h"
#include "server/ring/pool_config.h"
#include "server/ring/ring.h"

namespace warmcache::proxy {

struct BackendCounters {
  std::atomic<uint64_t> requests{0};     // requests sent
  std::atomic<uint64_t> replies{0};      // replies received
  std::atomic<uint64_t> errors{0};       // requests answered by the proxy with SERVER_ERROR
  std::atomic<uint64_t> timeouts{0};     // of which the backend was silent for `timeout`
  std::atomic<uint64_t> ejections{0};    // times auto_eject_hosts took the node out
  std::atomic<uint64_t> connections{0};  // connections opened (one per worker, again after faults)
  std::atomic<uint64_t> latency_us{0};   // sum over replies, for the mean
  std::atomic<uint64_t> latency_max_us{0};
};

// A write that went elsewhere because its home node was ejected: before that node serves
// again, the key is deleted from it (it may hold an older value) and from `interim` (which
// would serve this copy, then stale, if the home node were ejected again).
struct MovedKey {
  std::string key;
  int interim = -1;  // -1: none (a replica that was skipped)
};

// What a node must drop before it is let back in.
struct RejoinWork {
  std::vector<MovedKey> keys;
  bool flush = false;  // too many keys to list, or a flush_all it missed: flush it all
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
  // --- Never stale across an ejection (auto_eject_hosts). An ejected node keeps its old
  // values; the writes routed away from it are noted here, and when its retry time comes it
  // is let back in only after they are deleted from it.
  // The most keys noted per node; beyond this its rejoin flushes it instead.
  static constexpr size_t kMaxMovedKeys = 1u << 16;
  // A write of `key`, whose home is `node`, was routed to `interim` (or skipped, -1) because
  // `node` is not live. False if `node` is live again by now: the caller's ring was behind,
  // and the caller must delete the key from `node` and `interim` itself.
  bool NoteMovedWrite(int node, std::string_view key, int interim);
  // A flush_all reached every live node but not `node`, which must flush before it rejoins.
  // False if `node` is live by now: the caller sends the flush_all to it as well.
  bool NoteMissedFlush(int node);
  // Claims the rejoin of an ejected `node` whose retry time has come (one caller wins). If
  // nothing was noted it is live again at once and this returns false; otherwise the winner
  // gets the work to do.
  bool ClaimRejoin(int node, int64_t now_us, RejoinWork* work);
  // The work was done: the node is live unless more was noted meanwhile (returned in `more`,
  // with true: do that too, then finish again).
  bool FinishRejoin(int node, RejoinWork* more);
  // The node failed during its rejoin: it is ejected again and `work` goes back to its notes.
  void AbortRejoin(int node, RejoinWork work);

  // Changes whenever a node is ejected; a worker rebuilds its live ring when it differs.
  uint64_t health_epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Fills `live` (one entry per node); returns the earliest monotonic time an ejected node
  // may rejoin (INT64_MAX if none waits for its retry time).
  int64_t LiveMask(int64_t now_us, std::vector<bool>* live) const;
  bool IsEjected(int node) const {
    return health_[node].state.load(std::memory_order_relaxed) != NodeState::kLive;
  }
  BackendCounters& counters(int node) { return counters_[node]; }
  const BackendCounters& counters(int node) const { return counters_[node]; }
  const Clock* clock() const { return clock_; }

 private:
  enum class NodeState : uint8_t { kLive, kEjected, kRejoining };
  struct Health {
    std::atomic<int> failures{0};
    std::atomic<int64_t> ejected_until_us{0};
    std::atomic<NodeState> state{NodeState::kLive};
    std::mutex mu;     // guards moved and the state's changes
    RejoinWork moved;  // guarded by mu
  };
  void SetLive(int node);
  const ring::PoolConfig config_;
  const Clock* clock_;
  const uint64_t generation_;
  const ring::Ring full_ring_;
  std::unique_ptr<Health[]> health_;
  std::unique_ptr<BackendCounters[]> counters_;
  std::atomic<uint64_t> epoch_{0};
};

}  // namespace warmcache::proxy
