// SPDX-License-Identifier: BSD-3-Clause
#include "server/proxy/proxy_worker.h"

#include <algorithm>

#include "server/proxy/proxy_session.h"

namespace warmcache::proxy {

ProxyWorker::ProxyWorker(net::Worker* worker, std::shared_ptr<PoolState> pool)
    : worker_(worker) {
  SetPool(std::move(pool));
}

ProxyWorker::~ProxyWorker() = default;

void ProxyWorker::SetPool(std::shared_ptr<PoolState> pool) {
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
  const uint64_t epoch = pool_->health_epoch();
  const int64_t now = pool_->clock()->MonotonicMicros();
  if (epoch == ring_epoch_ && now < next_rejoin_us_) return;
  ring_epoch_ = epoch;
  next_rejoin_us_ = pool_->LiveMask(now, &live_);
  live_ring_ = ring::Ring::Build(config.distribution, config.hash, config.servers, &live_);
}

int ProxyWorker::ReadNode(std::string_view key) {
  RefreshLiveRing();
  if (pool_->config().replicas > 1) {
    int nodes[kMaxReplicas];
    const int n = WriteNodes(key, nodes);
    return n > 0 ? nodes[0] : -1;
  }
  if (!pool_->config().auto_eject_hosts) return pool_->full_ring().Owner(key);
  return live_ring_.Owner(key);
}

int ProxyWorker::WriteNodes(std::string_view key, int* nodes) {
  RefreshLiveRing();
  const int replicas = std::min(pool_->config().replicas, kMaxReplicas);
  if (replicas <= 1) {
    const int owner = pool_->config().auto_eject_hosts ? live_ring_.Owner(key)
                                                       : pool_->full_ring().Owner(key);
    if (owner < 0) return 0;
    nodes[0] = owner;
    return 1;
  }
  // Replicas sit on the full ring so an ejection does not move them; an ejected replica is
  // skipped, and reads go to the first that is live.
  int all[kMaxReplicas];
  const int found = pool_->full_ring().Replicas(key, replicas, all);
  int n = 0;
  for (int i = 0; i < found; ++i) {
    if (live_[static_cast<size_t>(all[i])]) nodes[n++] = all[i];
  }
  return n;
}

int ProxyWorker::LiveNodes(std::vector<int>* nodes) {
  RefreshLiveRing();
  nodes->clear();
  for (int i = 0; i < pool_->size(); ++i) {
    if (live_[static_cast<size_t>(i)]) nodes->push_back(i);
  }
  return static_cast<int>(nodes->size());
}

void ProxyWorker::FlushBackends() {
  // Flush may fail a backend, which fails its waiters and dirties sessions: iterate by index.
  for (size_t i = 0; i < dirty_backends_.size(); ++i) dirty_backends_[i]->Flush();
  dirty_backends_.clear();
  if (!retiring_.empty()) RetireIdleBackends();
}

void ProxyWorker::FlushSessions() {
  for (size_t i = 0; i < dirty_sessions_.size(); ++i) dirty_sessions_[i]->FlushOutput();
  dirty_sessions_.clear();
}

void ProxyWorker::ForgetSession(ProxySession* session) {
  dirty_sessions_.erase(std::remove(dirty_sessions_.begin(), dirty_sessions_.end(), session),
                        dirty_sessions_.end());
}

void ProxyWorker::RetireIdleBackends() {
  std::erase_if(retiring_, [](const std::unique_ptr<Backend>& b) { return b->outstanding() == 0; });
}

void ProxyWorker::Shutdown() {
  dirty_backends_.clear();
  retiring_.clear();
  backends_.clear();
}

}  // namespace warmcache::proxy
