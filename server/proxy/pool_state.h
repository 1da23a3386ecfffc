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
  bool flush_home = false;          // too many keys to list, or a flush_all it missed
  std::vector<int> flush_interims;  // stand-ins whose copies were past the list: flushed too
  bool empty() const { return keys.empty() && !flush_home && flush_interims.empty(); }
  void Merge(RejoinWork other, size_t max_keys);
};

class PoolState : public std::enable_shared_from_this<PoolState> {
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
  // values; the writes routed away from it are noted here once they are done (so a delete
  // sent at its rejoin cannot overtake one), and when its retry time comes it is let back in
  // only after those keys are deleted from it and from the stand-ins.
  // The most keys noted per node; beyond this its rejoin flushes it (and the stand-ins).
  static constexpr size_t kMaxMovedKeys = 1u << 16;
  // A write of `key`, whose home is `node`, went to `interim` (or skipped it, -1) because
  // `node` was not live, and has been answered (or failed). False if `node` is live again by
  // now: the caller must delete the key from `node` and `interim` itself before it replies.
  bool NoteMovedWrite(int node, std::string_view key, int interim);
  // A flush_all reached every live node but not `node`, which must flush before it rejoins.
  // False if `node` is live by now: the caller sends the flush_all to it as well.
  bool NoteMissedFlush(int node);
  // A replica failed a write that another replica took: it may lack it, so it must not serve
  // reads until cleaned. Ejects it at once (auto_eject_hosts only).
  void EjectNow(int node);
  // Claims the rejoin of an ejected `node` whose retry time has come (one caller wins). If
  // nothing was noted it is live again at once and this returns false; otherwise the winner
  // gets the work to do (it stays noted until FinishRejoin, so a reload keeps it).
  bool ClaimRejoin(int node, int64_t now_us, RejoinWork* work);
  // The work was done: the node is live unless more was noted meanwhile (returned in `more`,
  // with false: do that too, then finish again).
  bool FinishRejoin(int node, RejoinWork* more);
  // The rejoin failed (the node, or a stand-in that is still live): the node is ejected again
  // and keeps its work for the next try.
  void AbortRejoin(int node);
  // A SIGHUP made this pool (held by a shared_ptr): nodes at the same address keep their
  // health and notes (stand-ins mapped by address), so a reload cannot let an ejected node back
  // without its cleanup. From then on `old` passes the notes of those nodes on to this pool:
  // writes, flushes and replica failures (EjectNow) still in flight against `old` finish after
  // the copy.
  void InheritFrom(PoolState& old);
  // The node at "host:port" (as in the pool file), or -1.
  int IndexOf(std::string_view address) const;

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
    std::mutex mu;            // guards moved, claimed and the state's changes
    RejoinWork moved;         // guarded by mu: noted, not yet claimed
    RejoinWork claimed;       // guarded by mu: being done by a rejoin
    int successor_node = -1;  // guarded by mu: this node in successor_, once it inherited
  };
  // The note goes to the pool that inherited `h`'s node. Call with h.mu held.
  bool ForwardMovedWrite(const Health& h, std::string_view key, int interim);
  void SetLiveLocked(int node);
  void EjectLocked(int node);

  const ring::PoolConfig config_;
  const Clock* clock_;
  const uint64_t generation_;
  const ring::Ring full_ring_;
  std::unique_ptr<Health[]> health_;
  std::unique_ptr<BackendCounters[]> counters_;
  std::atomic<uint64_t> epoch_{0};
  // Set once, by the reload that replaces this pool, before any successor_node; read only
  // where a node's successor_node (under its mu) says it is set.
  std::shared_ptr<PoolState> successor_;
};

}  // namespace warmcache::proxy
