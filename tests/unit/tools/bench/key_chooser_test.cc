// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/key_chooser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace warmcache::tools::bench {
namespace {

TEST(KeyChooserTest, UniformStaysInRangeAndCoversIt) {
  const auto chooser = MakeUniformChooser(10);
  Rng rng(1);
  std::vector<int> seen(10, 0);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t k = chooser->Next(rng);
    ASSERT_LT(k, 10u);
    ++seen[k];
  }
  for (int count : seen) EXPECT_GT(count, 800);
}

TEST(KeyChooserTest, ZipfIsSkewedAndInRange) {
  constexpr uint64_t kKeys = 10000;
  const auto chooser = MakeZipfChooser(kKeys, 0.99);
  Rng rng(7);
  std::vector<int> seen(kKeys, 0);
  constexpr int kDraws = 200000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t k = chooser->Next(rng);
    ASSERT_LT(k, kKeys);
    ++seen[k];
  }
  std::sort(seen.rbegin(), seen.rend());
  // With theta 0.99 over 10k keys the hottest key takes ~10% and the top 1% of keys about half.
  EXPECT_GT(seen[0], kDraws / 20);
  int top = 0;
  for (int i = 0; i < 100; ++i) top += seen[i];
  EXPECT_GT(top, kDraws * 4 / 10);
}

TEST(KeyChooserTest, ZipfWorksForTinyKeySpaces) {
  for (uint64_t n : {1u, 2u, 3u}) {
    const auto chooser = MakeZipfChooser(n, 0.5);
    Rng rng(3);
    for (int i = 0; i < 1000; ++i) ASSERT_LT(chooser->Next(rng), n);
  }
}

TEST(KeyChooserTest, ScatterIsABijection) {
  for (uint64_t n : {1u, 2u, 3u, 10u, 1000u, 1024u, 65537u}) {
    const KeyScatter scatter(n);
    std::vector<int> seen(n, 0);
    for (uint64_t i = 0; i < n; ++i) ++seen.at(scatter(i));
    EXPECT_EQ(n, static_cast<uint64_t>(std::count(seen.begin(), seen.end(), 1))) << "n=" << n;
  }
}

}  // namespace
}  // namespace warmcache::tools::bench
