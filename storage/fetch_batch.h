// SPDX-License-Identifier: BSD-3-Clause
// The keys one request must read from the warm tier before it can run.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/memory/memory_tier.h"

namespace warmcache::storage {

// The engine adds each key a request found missing from RAM (registering it with its shard),
// the warm tier reads them all at once and installs what it finds, and the request runs again.
// Keys found absent below are remembered, so the rerun takes their RAM miss as final.
// Thread safety: owned by one session; handed whole to an I/O thread during a fetch (the
// hand-off and the completion are ordered by the loop's mailbox).
class FetchBatch {
 public:
  FetchTicket* Add() {
    if (used_ == tickets_.size()) tickets_.push_back(std::make_unique<FetchTicket>());
    outcomes_.resize(used_ + 1);
    return tickets_[used_++].get();
  }
  size_t size() const { return used_; }
  bool empty() const { return used_ == 0; }
  FetchTicket& ticket(size_t i) { return *tickets_[i]; }
  void SetOutcome(size_t i, FetchOutcome outcome) { outcomes_[i] = outcome; }

  // After a fetch completed: keeps the keys found absent (or unpromotable) as final misses,
  // and notes the ones installed.
  void Settle() {
    for (size_t i = 0; i < used_; ++i) {
      const FetchOutcome outcome = outcomes_[i];
      if (outcome == FetchOutcome::kAbsent || outcome == FetchOutcome::kNoMemory) {
        final_misses_.push_back(tickets_[i]->key);
      } else if (outcome == FetchOutcome::kInstalled) {
        installed_.push_back(tickets_[i]->key);
      }
    }
    used_ = 0;
  }
  // A RAM miss for `key` is final: nothing below, or what was installed for this request was
  // evicted again before it ran, twice (RAM is churning faster than the request can use it).
  bool IsFinalMiss(std::string_view key) const {
    if (std::find(final_misses_.begin(), final_misses_.end(), key) != final_misses_.end()) {
      return true;
    }
    return std::count(installed_.begin(), installed_.end(), key) >= kMaxInstalls;
  }
  // A new request begins.
  void Reset() {
    used_ = 0;
    final_misses_.clear();
    installed_.clear();
  }

 private:
  std::vector<std::unique_ptr<FetchTicket>> tickets_;  // reused across requests
  std::vector<FetchOutcome> outcomes_;
  static constexpr long kMaxInstalls = 2;
  std::vector<std::string> final_misses_;
  std::vector<std::string> installed_;
  size_t used_ = 0;
};

}  // namespace warmcache::storage
