// SPDX-License-Identifier: BSD-3-Clause
#include "server/common/numbers.h"

#include <gtest/gtest.h>

namespace warmcache {
namespace {

TEST(SafeStrtoullTest, AcceptsWhatMemcachedAccepts) {
  uint64_t v = 0;
  EXPECT_TRUE(SafeStrtoull("0", &v));
  EXPECT_EQ(0u, v);
  EXPECT_TRUE(SafeStrtoull("18446744073709551615", &v));
  EXPECT_EQ(UINT64_MAX, v);
  EXPECT_TRUE(SafeStrtoull("+5", &v));
  EXPECT_EQ(5u, v);
  EXPECT_TRUE(SafeStrtoull("12 34", &v));  // stops at whitespace
  EXPECT_EQ(12u, v);
  EXPECT_TRUE(SafeStrtoull("-0", &v));
  EXPECT_EQ(0u, v);
}

TEST(SafeStrtoullTest, RejectsGarbageOverflowAndNegatives) {
  uint64_t v = 7;
  EXPECT_FALSE(SafeStrtoull("", &v));
  EXPECT_EQ(0u, v);
  EXPECT_FALSE(SafeStrtoull("abc", &v));
  EXPECT_FALSE(SafeStrtoull("12abc", &v));
  EXPECT_FALSE(SafeStrtoull("18446744073709551616", &v));
  EXPECT_FALSE(SafeStrtoull("-1", &v));
  EXPECT_FALSE(SafeStrtoull("-", &v));
}

TEST(SafeStrtoulTest, TruncatesToThirtyTwoBitsLikeMemcachedOnLp64) {
  uint32_t v = 0;
  EXPECT_TRUE(SafeStrtoul("4294967295", &v));
  EXPECT_EQ(4294967295u, v);
  EXPECT_TRUE(SafeStrtoul("4294967296", &v));
  EXPECT_EQ(0u, v);
  EXPECT_FALSE(SafeStrtoul("-1", &v));
}

TEST(SafeStrtolTest, TruncatesLongToInt32) {
  int32_t v = 0;
  EXPECT_TRUE(SafeStrtol("-1", &v));
  EXPECT_EQ(-1, v);
  EXPECT_TRUE(SafeStrtol("2147483647", &v));
  EXPECT_EQ(2147483647, v);
  EXPECT_TRUE(SafeStrtol("4294967295", &v));
  EXPECT_EQ(-1, v);
  EXPECT_TRUE(SafeStrtol("4000000000", &v));
  EXPECT_LT(v, 0);
  EXPECT_FALSE(SafeStrtol("9223372036854775808", &v));
  EXPECT_FALSE(SafeStrtol("1x", &v));
  EXPECT_FALSE(SafeStrtol("", &v));
}

}  // namespace
}  // namespace warmcache
