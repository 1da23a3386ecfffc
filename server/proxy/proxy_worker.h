// SPDX-License-Identifier: BSD-3-Clause
// A worker thread's share of the proxy: one Backend per pool node (so no lock is taken per
// request), the ring over the nodes that are live now, and the batching of writes: backends
// and clients touched while handling one event are flushed once at its end.
//
// Thread safety: confined to its worker's loop thread, except SetPool's caller posts to it.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "net/worker.h"
#include "server/proxy/backend.h"
#include "server/proxy/pool_state.h"
#include "server/proxy/rejoin_task.h"
#include "server/ring/ring.h"

namespace warmcache::proxy {

class ProxySession;

class ProxyWorker {
 public:
  // The most replicas a pool may ask for.
  static constexpr int kMaxReplicas = 8;

  ProxyWorker(net::Worker* worker, std::shared_ptr<PoolState> pool);
  ~ProxyWorker();
  ProxyWorker(const ProxyWorker&) = delete;
  ProxyWorker& operator=(const ProxyWorker&) = delete;

  // Loop thread: routes new requests by `pool` from now on. Backends of the old pool stay
  // until the replies they wait for have arrived.
  void SetPool(std::shared_ptr<PoolState> pool);
  const PoolState& pool() const { return *pool_; }
  const std::shared_ptr<PoolState>& shared_pool() const { return pool_; }

  // Where a key's reads go: one node, or -1 when no node is live.
  int ReadNode(std::string_view key);
  // A write routed around a node that is not live: noted for that node's rejoin once the
  // write is done (PoolState::NoteMovedWrite).
  struct MovedWrite {
    int home;     // the node it belongs to
    int interim;  // where it went instead (-1: a skipped replica)
  };
  // Where a key's writes go (its replicas that are live); returns how many, 0 if none.
  // `moved` gets the nodes it should have gone to as well (at most kMaxReplicas).
  int WriteNodes(std::string_view key, int* nodes, MovedWrite* moved, int* nmoved);
  // The nodes a broadcast (flush_all) reaches: every live one. The ejected ones are noted to
  // be flushed before they rejoin.
  int FlushNodes(std::vector<int>* nodes);
  Backend& backend(int node) { return *backends_[node]; }

  void NoteBackendDirty(Backend* backend) { dirty_backends_.push_back(backend); }
  // A backend is going away: it must not be flushed later.
  void ForgetBackend(Backend* backend);
  // Writes what the backends staged. Safe inside a backend's callback.
  void FlushBackends();
  // The worker calls it after each batch of socket events (WorkerContext::after_events), never
  // inside a callback: FlushBackends, so the requests of many clients read in one batch go to
  // a node in one write, and frees what is no longer needed (an old pool's idle backends,
  // finished rejoins).
  void AfterEvents();
  void NoteSessionDirty(ProxySession* session) { dirty_sessions_.push_back(session); }
  void FlushSessions();
  // A session is going away: it must not be flushed later.
  void ForgetSession(ProxySession* session);
  // The worker is stopping: drop every backend connection.
  void Shutdown();

 private:
  // Rebuilds the live ring when a node was ejected or its retry time has come.
  void RefreshLiveRing();
  // Starts the rejoin of every ejected node whose retry time has come (if this worker wins it).
  void StartRejoins(int64_t now_us);

  net::Worker* worker_;
  std::shared_ptr<PoolState> pool_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::vector<std::unique_ptr<Backend>> retiring_;  // an old pool's, still waited on
  std::vector<std::unique_ptr<RejoinTask>> rejoins_;
  ring::Ring live_ring_;
  std::vector<bool> live_;
  uint64_t ring_epoch_ = UINT64_MAX;
  int64_t next_rejoin_us_ = 0;
  std::vector<Backend*> dirty_backends_;
  std::vector<ProxySession*> dirty_sessions_;
};

}  // namespace warmcache::proxy
