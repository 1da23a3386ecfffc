// SPDX-License-Identifier: BSD-3-Clause
#include "server/common/status.h"

#include <gtest/gtest.h>

namespace warmcache {
namespace {

Status FailsWith(StatusCode code) { return Status(code, "why"); }
Status Chain() {
  WC_RETURN_IF_ERROR(Status::Ok());
  WC_RETURN_IF_ERROR(FailsWith(StatusCode::kIoError));
  return Status::Ok();
}

TEST(StatusTest, OkHasNoMessageAndErrorsCarryTheirs) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ("OK", Status::Ok().ToString());
  Status s = Chain();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(StatusCode::kIoError, s.code());
  EXPECT_EQ("I/O error: why", s.ToString());
  Status copy = s;
  EXPECT_EQ(s.ToString(), copy.ToString());
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 5;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(5, *good);
  Result<int> bad = Status::NotFound("k");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(StatusCode::kNotFound, bad.status().code());
}

}  // namespace
}  // namespace warmcache
