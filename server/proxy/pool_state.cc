// SPDX-License-Identifier: BSD-3-Clause
#include "server/proxy/pool_state.h"

#include <spdlog/spdlog.h>

#include <climits>

namespace warmcache::proxy {

PoolState::PoolState(ring::PoolConfig config, const Clock* clock, uint64_t generation)
    : config_(std::move(config)),
      clock_(clock),
      generation_(generation),
      full_ring_(ring::Ring::Build(config_.distribution, config_.hash, config_.servers)),
      health_(new Health[config_.servers.size()]),
      counters_(new BackendCounters[config_.servers.size()]) {}

void PoolState::RecordFailure(int node) {
  Health& h = health_[node];
  const int failures = h.failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!config_.auto_eject_hosts || failures < config_.server_failure_limit) return;
  // Like twemproxy: the count starts again, so after the retry timeout the node gets
  // server_failure_limit more chances before it is ejected again.
  h.failures.store(0, std::memory_order_relaxed);
  const int64_t until = clock_->MonotonicMicros() + int64_t{config_.server_retry_timeout_ms} * 1000;
  {
    std::lock_guard lock(h.mu);
    if (h.state.load(std::memory_order_relaxed) == NodeState::kRejoining)
      return;  // its rejoin aborts
    h.ejected_until_us.store(until, std::memory_order_relaxed);
    h.state.store(NodeState::kEjected, std::memory_order_relaxed);
  }
  counters_[node].ejections.fetch_add(1, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  spdlog::warn("pool {}: ejected {} for {} ms after {} failures", config_.name,
               config_.servers[node].Address(), config_.server_retry_timeout_ms, failures);
}

int64_t PoolState::LiveMask(int64_t now_us, std::vector<bool>* live) const {
  (void)now_us;
  int64_t next = INT64_MAX;
  live->assign(config_.servers.size(), true);
  for (size_t i = 0; i < config_.servers.size(); ++i) {
    const NodeState state = health_[i].state.load(std::memory_order_relaxed);
    if (state == NodeState::kLive) continue;
    (*live)[i] = false;
    if (state == NodeState::kEjected) {
      next = std::min(next, health_[i].ejected_until_us.load(std::memory_order_relaxed));
    }
  }
  return next;
}

bool PoolState::NoteMovedWrite(int node, std::string_view key, int interim) {
  Health& h = health_[node];
  std::lock_guard lock(h.mu);
  if (h.state.load(std::memory_order_relaxed) == NodeState::kLive) return false;
  if (h.moved.flush) return true;
  if (h.moved.keys.size() >= kMaxMovedKeys) {
    h.moved.flush = true;
    h.moved.keys.clear();
    return true;
  }
  h.moved.keys.push_back(MovedKey{std::string(key), interim});
  return true;
}

bool PoolState::NoteMissedFlush(int node) {
  Health& h = health_[node];
  std::lock_guard lock(h.mu);
  if (h.state.load(std::memory_order_relaxed) == NodeState::kLive) return false;
  h.moved.flush = true;
  h.moved.keys.clear();
  return true;
}

void PoolState::SetLive(int node) {
  health_[node].state.store(NodeState::kLive, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

bool PoolState::ClaimRejoin(int node, int64_t now_us, RejoinWork* work) {
  Health& h = health_[node];
  std::lock_guard lock(h.mu);
  if (h.state.load(std::memory_order_relaxed) != NodeState::kEjected ||
      h.ejected_until_us.load(std::memory_order_relaxed) > now_us) {
    return false;
  }
  if (!h.moved.flush && h.moved.keys.empty()) {
    SetLive(node);
    spdlog::info("pool {}: {} is back", config_.name, config_.servers[node].Address());
    return false;
  }
  *work = std::move(h.moved);
  h.moved = RejoinWork{};
  h.state.store(NodeState::kRejoining, std::memory_order_relaxed);
  return true;
}

bool PoolState::FinishRejoin(int node, RejoinWork* more) {
  Health& h = health_[node];
  std::lock_guard lock(h.mu);
  if (h.moved.flush || !h.moved.keys.empty()) {
    *more = std::move(h.moved);
    h.moved = RejoinWork{};
    return false;
  }
  SetLive(node);
  spdlog::info("pool {}: {} is back, its stale keys dropped", config_.name,
               config_.servers[node].Address());
  return true;
}

void PoolState::AbortRejoin(int node, RejoinWork work) {
  Health& h = health_[node];
  {
    std::lock_guard lock(h.mu);
    if (work.flush || h.moved.flush || work.keys.size() + h.moved.keys.size() > kMaxMovedKeys) {
      h.moved.flush = true;
      h.moved.keys.clear();
    } else {
      for (MovedKey& k : work.keys) h.moved.keys.push_back(std::move(k));
    }
    h.ejected_until_us.store(
        clock_->MonotonicMicros() + int64_t{config_.server_retry_timeout_ms} * 1000,
        std::memory_order_relaxed);
    h.state.store(NodeState::kEjected, std::memory_order_relaxed);
  }
  counters_[node].ejections.fetch_add(1, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace warmcache::proxy
