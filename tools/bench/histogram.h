// SPDX-License-Identifier: BSD-3-Clause
// Log-linear latency histogram (the HdrHistogram idea, without the dependency Debian lacks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace warmcache::tools::bench {

// Records non-negative integers (the bench records nanoseconds) with a bounded relative error.
// Values below 2^kSubBucketBits are kept exactly; above that, each power-of-two range is split
// into 2^kSubBucketBits equal buckets, so a reported value is at most 1/128 (0.8%) above the
// true one. The whole uint64_t range fits in ~7.4k buckets (~60 KiB).
// Thread safety: none. Each bench thread owns one and the results are merged with Merge().
class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;

  Histogram();

  void Record(uint64_t value);
  void Merge(const Histogram& other);
  void Reset();

  // The smallest recorded-bucket bound v such that at least `quantile` (0..1) of the recorded
  // values are <= v, clamped to [min(), max()]. Returns 0 when empty.
  uint64_t ValueAtQuantile(double quantile) const;

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;

  // Bucket geometry, exposed for tests.
  static size_t BucketIndex(uint64_t value);
  static uint64_t BucketLowest(size_t index);
  static uint64_t BucketHighest(size_t index);
  static size_t BucketCount();

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace warmcache::tools::bench
