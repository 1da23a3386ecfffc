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

  // After a fetch completed: keeps the keys found absent (or unpromotable) as final misses.
  void Settle() {
    for (size_t i = 0; i < used_; ++i) {
      if (outcomes_[i] == FetchOutcome::kAbsent || outcomes_[i] == FetchOutcome::kNoMemory) {
        final_misses_.push_back(tickets_[i]->key);
      }
    }
    used_ = 0;
    ++rounds_;
  }
  bool IsFinalMiss(std::string_view key) const {
    return std::find(final_misses_.begin(), final_misses_.end(), key) != final_misses_.end();
  }
  // How many fetches the current request has made: a request whose installs keep being
  // evicted before it reruns gives up on the warm tier after a few.
  int rounds() const { return rounds_; }
  // A new request begins.
  void Reset() {
    used_ = 0;
    rounds_ = 0;
    final_misses_.clear();
  }

 private:
  std::vector<std::unique_ptr<FetchTicket>> tickets_;  // reused across requests
  std::vector<FetchOutcome> outcomes_;
  std::vector<std::string> final_misses_;
  size_t used_ = 0;
  int rounds_ = 0;
};

}  // namespace warmcache::storage
