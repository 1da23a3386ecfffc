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
  const int failures = health_[node].failures.fetch_add(1, std::memory_order_relaxed) + 1;
  if (!config_.auto_eject_hosts || failures < config_.server_failure_limit) return;
  // Like twemproxy: the count starts again, so after the retry timeout the node gets
  // server_failure_limit more chances before it is ejected again.
  health_[node].failures.store(0, std::memory_order_relaxed);
  const int64_t until =
      clock_->MonotonicMicros() + int64_t{config_.server_retry_timeout_ms} * 1000;
  health_[node].ejected_until_us.store(until, std::memory_order_relaxed);
  counters_[node].ejections.fetch_add(1, std::memory_order_relaxed);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  spdlog::warn("pool {}: ejected {} for {} ms after {} failures", config_.name,
               config_.servers[node].Address(), config_.server_retry_timeout_ms, failures);
}

int64_t PoolState::LiveMask(int64_t now_us, std::vector<bool>* live) const {
  int64_t next = INT64_MAX;
  live->assign(config_.servers.size(), true);
  for (size_t i = 0; i < config_.servers.size(); ++i) {
    const int64_t until = health_[i].ejected_until_us.load(std::memory_order_relaxed);
    if (until > now_us) {
      (*live)[i] = false;
      next = std::min(next, until);
    }
  }
  return next;
}

}  // namespace warmcache::proxy
