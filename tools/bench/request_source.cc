// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/request_source.h"

#include <algorithm>

namespace warmcache::tools::bench {

RequestSource::RequestSource(const BenchOptions* options, const KeyChooser* chooser,
                             const Schedule* schedule, SharedCounters* shared, uint64_t seed)
    : options_(options),
      chooser_(chooser),
      schedule_(schedule),
      shared_(shared),
      scatter_(options->keys),
      rng_(seed) {}

bool RequestSource::Next(int64_t now_ns, Request* request) {
  if (exhausted_) return false;
  const bool time_up = now_ns >= schedule_->measure_end_ns;
  const bool count_up =
      options_->max_requests != 0 &&
      shared_->issued.fetch_add(1, std::memory_order_relaxed) >= options_->max_requests;
  if (time_up || count_up) {
    exhausted_ = true;
    return false;
  }
  request->key_ids.clear();
  switch (options_->mode) {
    case Mode::kLoad: {
      const uint64_t key = shared_->next_position.fetch_add(1, std::memory_order_relaxed);
      if (key >= options_->keys) {
        exhausted_ = true;
        return false;
      }
      request->is_get = false;
      request->key_ids.push_back(key);
      return true;
    }
    case Mode::kMixed:
      request->is_get = rng_.Below(100) < static_cast<uint64_t>(options_->get_percent);
      request->key_ids.push_back(chooser_->Next(rng_));
      return true;
    case Mode::kMultiget:
      request->is_get = true;
      for (int i = 0; i < options_->multiget_keys; ++i) {
        request->key_ids.push_back(chooser_->Next(rng_));
      }
      return true;
    case Mode::kVerify:
      return NextVerify(request);
    case Mode::kReady:  // run by restart_modes.cc, never through a RequestSource
    case Mode::kWrite:
    case Mode::kCheck:
      break;
  }
  return false;
}

// The next multiget_keys positions of the key order; the last get may hold fewer.
bool RequestSource::NextVerify(Request* request) {
  const auto count = static_cast<uint64_t>(options_->multiget_keys);
  const uint64_t first = shared_->next_position.fetch_add(count, std::memory_order_relaxed);
  if (first >= options_->keys) {
    exhausted_ = true;
    return false;
  }
  request->is_get = true;
  const uint64_t end = std::min(first + count, options_->keys);
  for (uint64_t pos = first; pos < end; ++pos) {
    request->key_ids.push_back(options_->order == KeyOrder::kScattered ? scatter_(pos) : pos);
  }
  return true;
}

}  // namespace warmcache::tools::bench
