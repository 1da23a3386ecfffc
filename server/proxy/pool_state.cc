// SPDX-License-Identifier: BSD-3-Clause
#include "server/proxy/pool_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>

namespace warmcache::proxy {

PoolState::PoolState(ring::PoolConfig config, const Clock* clock, uint64_t generation)
    : config_(std::move(config)),
      clock_(clock),
      generation_(generation),
      full_ring_(ring::Ring::Build(config_.distribution, config_.hash, config_.servers)),
      health_(new Health[config_.servers.size()]),
      counters_(new BackendCounters[config_.servers.size()]) {}

void RejoinWork::Merge(RejoinWork other, size_t max_keys) {
  flush_home = flush_home || other.flush_home;
  for (int interim : other.flush_interims) {
    if (std::find(flush_interims.begin(), flush_interims.end(), interim) == flush_interims.end()) {
      flush_interims.push_back(interim);
    }
  }
  for (MovedKey& k : other.keys) {
    if (keys.size() < max_keys) {
      keys.push_back(std::move(k));
      continue;
    }
    // Past the list: the home node is flushed, and so is the stand-in holding the copy.
    flush_home = true;
    if (k.interim >= 0 && std::find(flush_interims.begin(), flush_interims.end(), k.interim) ==
                              flush_interims.end()) {
      flush_interims.push_back(k.interim);
    }
  }
}

void PoolState::EjectLocked(int node) {
  Health& h = health_[node];
  h.failures.store(0, std::memory_order_relaxed);
  h.ejected_until_us.store(
      clock_->MonotonicMicros() + int64_t{config_.server_retry_timeout_ms} * 1000,
      std::memory_order_relaxed);
  h.state.store(NodeState::kEjected, std::memory_order_relaxed);
  counters_[node].ejections.fetch_add(1, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

void PoolState::RecordFailure(int node) {
  Health& h = health_[node];
  if (!config_.auto_eject_hosts) return;
  const int failures = h.failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (failures < config_.server_failure_limit) return;
  // Like twemproxy: the count starts again, so after the retry timeout the node gets
  // server_failure_limit more chances before it is ejected again.
  std::lock_guard lock(h.mu);
  // Already out (several workers failed at once), or rejoining: its rejoin aborts instead.
  if (h.state.load(std::memory_order_relaxed) != NodeState::kLive) return;
  EjectLocked(node);
  spdlog::warn("pool {}: ejected {} for {} ms after {} failures", config_.name,
               config_.servers[node].Address(), config_.server_retry_timeout_ms, failures);
}

void PoolState::EjectNow(int node) {
  if (!config_.auto_eject_hosts) return;
  Health& h = health_[node];
  std::lock_guard lock(h.mu);
  // After a reload the node must stay out of reads in the pool that serves them now.
  if (h.successor_node >= 0) return successor_->EjectNow(h.successor_node);
  if (h.state.load(std::memory_order_relaxed) != NodeState::kLive) return;
  EjectLocked(node);
  spdlog::warn("pool {}: ejected {}: it failed a write its replicas took", config_.name,
               config_.servers[node].Address());
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
  if (h.successor_node >= 0) return ForwardMovedWrite(h, key, interim);
  if (h.state.load(std::memory_order_relaxed) == NodeState::kLive) return false;
  RejoinWork one;
  one.keys.push_back(MovedKey{std::string(key), interim});
  h.moved.Merge(std::move(one), kMaxMovedKeys);
  return true;
}

bool PoolState::ForwardMovedWrite(const Health& h, std::string_view key, int interim) {
  // Lock order: an older pool's node, then the newer pool's (which may forward again).
  const int mapped = interim < 0 ? -1 : successor_->IndexOf(config_.servers[interim].Address());
  return successor_->NoteMovedWrite(h.successor_node, key, mapped);
}

bool PoolState::NoteMissedFlush(int node) {
  Health& h = health_[node];
  std::lock_guard lock(h.mu);
  if (h.successor_node >= 0) return successor_->NoteMissedFlush(h.successor_node);
  if (h.state.load(std::memory_order_relaxed) == NodeState::kLive) return false;
  h.moved.flush_home = true;
  return true;
}

void PoolState::SetLiveLocked(int node) {
  health_[node].failures.store(0, std::memory_order_relaxed);
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
  if (h.moved.empty() && h.claimed.empty()) {
    SetLiveLocked(node);
    spdlog::info("pool {}: {} is back", config_.name, config_.servers[node].Address());
    return false;
  }
  h.claimed.Merge(std::move(h.moved), SIZE_MAX);
  h.moved = RejoinWork{};
  *work = h.claimed;
  h.state.store(NodeState::kRejoining, std::memory_order_relaxed);
  return true;
}

bool PoolState::FinishRejoin(int node, RejoinWork* more) {
  Health& h = health_[node];
  std::lock_guard lock(h.mu);
  h.claimed = RejoinWork{};
  if (!h.moved.empty()) {
    h.claimed = std::move(h.moved);
    h.moved = RejoinWork{};
    *more = h.claimed;
    return false;
  }
  SetLiveLocked(node);
  spdlog::info("pool {}: {} is back, its stale keys dropped", config_.name,
               config_.servers[node].Address());
  return true;
}

void PoolState::AbortRejoin(int node) {
  Health& h = health_[node];
  std::lock_guard lock(h.mu);
  // The claimed work stays claimed: the next ClaimRejoin merges the new notes into it.
  EjectLocked(node);
}

int PoolState::IndexOf(std::string_view address) const {
  for (size_t i = 0; i < config_.servers.size(); ++i) {
    if (config_.servers[i].Address() == address) return static_cast<int>(i);
  }
  return -1;
}

void PoolState::InheritFrom(PoolState& old) {
  old.successor_ = shared_from_this();
  for (int i = 0; i < size(); ++i) {
    const int from = old.IndexOf(config_.servers[i].Address());
    if (from < 0) continue;
    Health& h = health_[i];
    Health& o = old.health_[from];
    std::lock_guard lock(o.mu);
    // Under the same lock as the copy: a note made on `old` after it lands here.
    o.successor_node = i;
    if (o.state.load(std::memory_order_relaxed) == NodeState::kLive) continue;
    RejoinWork work = o.claimed;
    work.Merge(o.moved, SIZE_MAX);
    for (MovedKey& k : work.keys) {
      k.interim = k.interim < 0 ? -1 : IndexOf(old.config_.servers[k.interim].Address());
    }
    std::vector<int> interims;
    for (int interim : work.flush_interims) {
      const int mapped = IndexOf(old.config_.servers[interim].Address());
      if (mapped >= 0) interims.push_back(mapped);
    }
    work.flush_interims = std::move(interims);
    std::lock_guard mine(h.mu);
    h.moved = std::move(work);
    h.ejected_until_us.store(o.ejected_until_us.load(std::memory_order_relaxed),
                             std::memory_order_relaxed);
    h.state.store(NodeState::kEjected, std::memory_order_relaxed);
  }
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace warmcache::proxy
