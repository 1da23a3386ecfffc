// SPDX-License-Identifier: BSD-3-Clause
#include "server/proxy/proxy_worker.h"

#include <algorithm>

#include "server/proxy/proxy_session.h"

namespace warmcache::proxy {

ProxyWorker::ProxyWorker(net::Worker* worker, std::shared_ptr<PoolState> pool) : worker_(worker) {
  SetPool(std::move(pool));
}

ProxyWorker::~ProxyWorker() = default;

void ProxyWorker::SetPool(std::shared_ptr<PoolState> pool) {
  FlushBackends();
  // A rejoin under way stops; its work stays noted and the new pool inherited it.
  rejoins_.clear();
  for (auto& backend : backends_) {
    if (backend->outstanding() > 0) retiring_.push_back(std::move(backend));
  }
  backends_.clear();
  pool_ = std::move(pool);
  for (int i = 0; i < pool_->size(); ++i) {
    backends_.push_back(std::make_unique<Backend>(this, pool_, i, worker_));
  }
  ring_epoch_ = UINT64_MAX;  // rebuild at the next request
  live_.clear();
}

void ProxyWorker::RefreshLiveRing() {
  const ring::PoolConfig& config = pool_->config();
  if (!config.auto_eject_hosts) {
    if (ring_epoch_ == UINT64_MAX) {
      live_.assign(config.servers.size(), true);
      ring_epoch_ = 0;
    }
    return;
  }
  const int64_t now = pool_->clock()->MonotonicMicros();
  if (pool_->health_epoch() == ring_epoch_ && now < next_rejoin_us_) return;
  if (now >= next_rejoin_us_) StartRejoins(now);
  ring_epoch_ = pool_->health_epoch();
  next_rejoin_us_ = pool_->LiveMask(now, &live_);
  live_ring_ = ring::Ring::Build(config.distribution, config.hash, config.servers, &live_);
}

void ProxyWorker::StartRejoins(int64_t now_us) {
  for (int node = 0; node < pool_->size(); ++node) {
    if (!pool_->IsEjected(node)) continue;
    RejoinWork work;
    if (!pool_->ClaimRejoin(node, now_us, &work)) continue;
    rejoins_.push_back(std::make_unique<RejoinTask>(this, pool_, node, std::move(work)));
    rejoins_.back()->Start();
  }
}

int ProxyWorker::ReadNode(std::string_view key) {
  RefreshLiveRing();
  const ring::PoolConfig& config = pool_->config();
  if (config.replicas > 1) {
    int all[kMaxReplicas];
    const int found =
        pool_->full_ring().Replicas(key, std::min(config.replicas, kMaxReplicas), all);
    for (int i = 0; i < found; ++i) {
      if (live_[static_cast<size_t>(all[i])]) return all[i];
    }
    return -1;
  }
  if (!config.auto_eject_hosts) return pool_->full_ring().Owner(key);
  return live_ring_.Owner(key);
}

int ProxyWorker::WriteNodes(std::string_view key, int* nodes, MovedWrite* moved, int* nmoved) {
  RefreshLiveRing();
  *nmoved = 0;
  const ring::PoolConfig& config = pool_->config();
  const int replicas = std::min(config.replicas, kMaxReplicas);
  if (replicas <= 1) {
    if (!config.auto_eject_hosts) {
      nodes[0] = pool_->full_ring().Owner(key);
      return nodes[0] < 0 ? 0 : 1;
    }
    const int owner = live_ring_.Owner(key);
    if (owner < 0) return 0;
    nodes[0] = owner;
    const int home = pool_->full_ring().Owner(key);
    if (home != owner) moved[(*nmoved)++] = MovedWrite{home, owner};
    return 1;
  }
  // Replicas sit on the full ring so an ejection does not move them; an ejected replica is
  // skipped (and noted for its rejoin), and reads go to the first that is live.
  int all[kMaxReplicas];
  const int found = pool_->full_ring().Replicas(key, replicas, all);
  int n = 0;
  for (int i = 0; i < found; ++i) {
    if (live_[static_cast<size_t>(all[i])]) {
      nodes[n++] = all[i];
    } else {
      moved[(*nmoved)++] = MovedWrite{all[i], -1};
    }
  }
  return n;
}

int ProxyWorker::FlushNodes(std::vector<int>* nodes) {
  RefreshLiveRing();
  nodes->clear();
  for (int i = 0; i < pool_->size(); ++i) {
    // An ejected node gets it now if it is live again by now, else when it rejoins.
    if (live_[static_cast<size_t>(i)] || !pool_->NoteMissedFlush(i)) nodes->push_back(i);
  }
  return static_cast<int>(nodes->size());
}

void ProxyWorker::FlushBackends() {
  // A flush may add to the list (a rejoin's next round): iterate by index.
  for (size_t i = 0; i < dirty_backends_.size(); ++i) dirty_backends_[i]->Flush();
  dirty_backends_.clear();
}

void ProxyWorker::ForgetBackend(Backend* backend) { std::erase(dirty_backends_, backend); }

void ProxyWorker::AfterEvents() {
  FlushBackends();
  if (!retiring_.empty()) {
    std::erase_if(retiring_,
                  [](const std::unique_ptr<Backend>& b) { return b->outstanding() == 0; });
  }
  if (!rejoins_.empty()) {
    std::erase_if(rejoins_, [](const std::unique_ptr<RejoinTask>& t) { return t->done(); });
  }
}

void ProxyWorker::FlushSessions() {
  for (size_t i = 0; i < dirty_sessions_.size(); ++i) dirty_sessions_[i]->FlushOutput();
  dirty_sessions_.clear();
}

void ProxyWorker::ForgetSession(ProxySession* session) {
  dirty_sessions_.erase(std::remove(dirty_sessions_.begin(), dirty_sessions_.end(), session),
                        dirty_sessions_.end());
}

void ProxyWorker::Shutdown() {
  rejoins_.clear();
  dirty_backends_.clear();
  retiring_.clear();
  backends_.clear();
}

}  // namespace warmcache::proxy
