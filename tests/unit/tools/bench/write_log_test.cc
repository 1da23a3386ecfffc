// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/write_log.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/testutil/temp_dir.h"

namespace warmcache::tools::bench {
namespace {

// The value part of one "set" request built by AppendSet.
std::string ValueOf(const VersionedValues& values, uint64_t key_id, uint32_t version) {
  std::string request;
  values.AppendSet(key_id, version, &request);
  const size_t start = request.find("\r\n") + 2;
  return request.substr(start, request.size() - start - 2);
}

TEST(VersionedValuesTest, EveryVersionReadsBackAsItself) {
  for (ValueKind kind : {ValueKind::kFill, ValueKind::kJson}) {
    const RequestCodec codec("wcb:", 0);
    const VersionedValues values(&codec, 400, kind);
    for (uint32_t version : {1u, 2u, 77u, 4000000000u}) {
      const std::string value = ValueOf(values, 42, version);
      ASSERT_EQ(400u, value.size());
      EXPECT_EQ(version, values.VersionOf(42, RequestCodec::Flags(42), value));
      EXPECT_EQ(0u, values.VersionOf(43, RequestCodec::Flags(42), value)) << "another key";
      EXPECT_EQ(0u, values.VersionOf(42, RequestCodec::Flags(42) + 1, value)) << "flags";
    }
  }
}

TEST(VersionedValuesTest, TornOrFlippedValuesAreCaught) {
  const RequestCodec codec("wcb:", 0);
  const VersionedValues values(&codec, 300, ValueKind::kJson);
  const std::string v1 = ValueOf(values, 7, 1);
  const std::string v2 = ValueOf(values, 7, 2);
  // The header of version 2 over the body of version 1, and the other way round.
  EXPECT_EQ(0u, values.VersionOf(7, RequestCodec::Flags(7), v2.substr(0, 150) + v1.substr(150)));
  EXPECT_EQ(0u, values.VersionOf(7, RequestCodec::Flags(7), v1.substr(0, 150) + v2.substr(150)));
  for (size_t at = 0; at < v1.size(); at += 13) {
    std::string flipped = v1;
    flipped[at] ^= 1;
    EXPECT_EQ(0u, values.VersionOf(7, RequestCodec::Flags(7), flipped)) << "byte " << at;
  }
  EXPECT_EQ(0u, values.VersionOf(7, RequestCodec::Flags(7), v1.substr(1)));
}

TEST(WriteLogTest, SaveLoadRoundTrip) {
  auto dir = testutil::TempDir::Create();
  ASSERT_TRUE(dir.ok());
  WriteLog log(3);
  log.sent = {5, 0, 4000000000u};
  log.acked = {4, 0, 4000000000u};
  ASSERT_TRUE(log.Save((*dir)->File("log")).ok());
  Result<WriteLog> loaded = WriteLog::Load((*dir)->File("log"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(log.sent, loaded->sent);
  EXPECT_EQ(log.acked, loaded->acked);
  EXPECT_FALSE(WriteLog::Load((*dir)->File("missing")).ok());
}

}  // namespace
}  // namespace warmcache::tools::bench
