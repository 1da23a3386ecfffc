// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace warmcache::tools::bench {
namespace {

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(0u, h.count());
  EXPECT_EQ(0u, h.ValueAtQuantile(0.5));
  EXPECT_EQ(0u, h.min());
  EXPECT_EQ(0u, h.max());
  EXPECT_EQ(0.0, h.mean());
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(50u, h.ValueAtQuantile(0.50));
  EXPECT_EQ(90u, h.ValueAtQuantile(0.90));
  EXPECT_EQ(99u, h.ValueAtQuantile(0.99));
  EXPECT_EQ(100u, h.ValueAtQuantile(1.0));
  EXPECT_EQ(1u, h.ValueAtQuantile(0.0));
  EXPECT_DOUBLE_EQ(50.5, h.mean());
}

TEST(HistogramTest, BucketsTileTheWholeRange) {
  EXPECT_EQ(0u, Histogram::BucketLowest(0));
  for (size_t i = 0; i + 1 < Histogram::BucketCount(); ++i) {
    ASSERT_EQ(Histogram::BucketHighest(i) + 1, Histogram::BucketLowest(i + 1)) << i;
    ASSERT_EQ(i, Histogram::BucketIndex(Histogram::BucketLowest(i))) << i;
    ASSERT_EQ(i, Histogram::BucketIndex(Histogram::BucketHighest(i))) << i;
  }
  EXPECT_EQ(Histogram::BucketCount() - 1, Histogram::BucketIndex(UINT64_MAX));
}

TEST(HistogramTest, RelativeErrorBelowOnePercent) {
  for (uint64_t v : {129ull, 1000ull, 123456ull, 987654321ull, 1ull << 40, (1ull << 50) + 12345}) {
    const size_t i = Histogram::BucketIndex(v);
    const double width =
        static_cast<double>(Histogram::BucketHighest(i) - Histogram::BucketLowest(i));
    EXPECT_LE(width / static_cast<double>(v), 1.0 / 128) << v;
  }
}

TEST(HistogramTest, QuantilesMatchSortedSampleWithinResolution) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(12.0, 1.0);  // ~160 us median in ns
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    values.push_back(static_cast<uint64_t>(dist(rng)));
    h.Record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto exact = static_cast<double>(values[static_cast<size_t>(q * values.size()) - 1]);
    EXPECT_NEAR(exact, static_cast<double>(h.ValueAtQuantile(q)), exact / 100) << q;
  }
  EXPECT_EQ(values.back(), h.ValueAtQuantile(1.0));
  EXPECT_EQ(values.back(), h.max());
  EXPECT_EQ(values.front(), h.min());
}

TEST(HistogramTest, QuantileNeverExceedsMax) {
  Histogram h;
  h.Record(1000001);  // bucket bound is higher than the value
  EXPECT_EQ(1000001u, h.ValueAtQuantile(0.5));
  EXPECT_EQ(1000001u, h.ValueAtQuantile(0.999));
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (uint64_t v = 0; v < 5000; v += 3) {
    (v % 2 ? a : b).Record(v * 977);
    all.Record(v * 977);
  }
  a.Merge(b);
  EXPECT_EQ(all.count(), a.count());
  EXPECT_EQ(all.min(), a.min());
  EXPECT_EQ(all.max(), a.max());
  EXPECT_DOUBLE_EQ(all.mean(), a.mean());
  for (double q : {0.1, 0.5, 0.9, 0.99}) EXPECT_EQ(all.ValueAtQuantile(q), a.ValueAtQuantile(q));
}

TEST(HistogramTest, ResetForgetsEverything) {
  Histogram h;
  h.Record(7);
  h.Reset();
  EXPECT_EQ(0u, h.count());
  h.Record(3);
  EXPECT_EQ(3u, h.min());
  EXPECT_EQ(3u, h.ValueAtQuantile(0.5));
}

}  // namespace
}  // namespace warmcache::tools::bench
