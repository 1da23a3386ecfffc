// SPDX-License-Identifier: BSD-3-Clause
#include "storage/memory/size_classes.h"

#include <gtest/gtest.h>

namespace warmcache::storage {
namespace {

TEST(SizeClassesTest, MatchesMemcachedDefaults) {
  SizeClasses classes(1.25, 48, 1024 * 1024);
  EXPECT_EQ(96u, classes.chunk_size(1));
  EXPECT_EQ(120u, classes.chunk_size(2));
  EXPECT_EQ(152u, classes.chunk_size(3));
  EXPECT_EQ(1, classes.ClassFor(1));
  EXPECT_EQ(1, classes.ClassFor(96));
  EXPECT_EQ(2, classes.ClassFor(97));
  EXPECT_EQ(classes.count(), classes.ClassFor(10 * 1024 * 1024));
  EXPECT_EQ(512u * 1024, classes.chunk_size(classes.count()));
}

TEST(SizeClassesTest, GrowthFactorShapesClasses) {
  SizeClasses coarse(2.0, 48, 1024 * 1024);
  SizeClasses fine(1.05, 48, 1024 * 1024);
  EXPECT_LT(coarse.count(), fine.count());
}

}  // namespace
}  // namespace warmcache::storage
