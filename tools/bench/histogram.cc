// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace warmcache::tools::bench {

namespace {
constexpr uint64_t kSubBuckets = uint64_t{1} << Histogram::kSubBucketBits;
}  // namespace

// Index layout: values < 2 * kSubBuckets map to themselves. A larger value v with bit width m
// keeps its top kSubBucketBits + 1 bits: shift = m - kSubBucketBits - 1 and
// sub = v >> shift (in [kSubBuckets, 2 * kSubBuckets)), index = shift * kSubBuckets + sub.
size_t Histogram::BucketIndex(uint64_t value) {
  const int width = std::bit_width(value);
  const int shift = std::max(0, width - kSubBucketBits - 1);
  const uint64_t sub = value >> shift;
  return static_cast<size_t>(static_cast<uint64_t>(shift) * kSubBuckets + sub);
}

uint64_t Histogram::BucketLowest(size_t index) {
  if (index < 2 * kSubBuckets) return index;
  const uint64_t shift = index / kSubBuckets - 1;
  const uint64_t sub = index - shift * kSubBuckets;
  return sub << shift;
}

uint64_t Histogram::BucketHighest(size_t index) {
  if (index + 1 >= BucketCount()) return UINT64_MAX;
  return BucketLowest(index + 1) - 1;
}

size_t Histogram::BucketCount() { return BucketIndex(UINT64_MAX) + 1; }

Histogram::Histogram() : counts_(BucketCount(), 0) {}

void Histogram::Record(uint64_t value) {
  ++counts_[BucketIndex(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += value;
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

uint64_t Histogram::ValueAtQuantile(double quantile) const {
  if (count_ == 0) return 0;
  quantile = std::clamp(quantile, 0.0, 1.0);
  // The rank of the wanted value, 1-based; at least the first value.
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketHighest(i), min(), max_);
  }
  return max_;
}

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

}  // namespace warmcache::tools::bench
