// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/request_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warmcache::tools::bench {
namespace {

Reply ParseOk(const std::string& wire) {
  Reply reply;
  EXPECT_EQ(ParseStatus::kOk, ParseReply(wire, ExpectedReply::kRetrieval, &reply));
  return reply;
}

// What a server would answer to a get when exactly the keys `ids` hit.
std::string ServerReply(const RequestCodec& codec, const std::vector<uint64_t>& ids) {
  std::string wire;
  for (uint64_t id : ids) {
    std::string value(codec.value_size(), '\0');
    codec.FillValue(id, value.data());
    wire += "VALUE " + codec.Key(id) + " " + std::to_string(RequestCodec::Flags(id)) + " " +
            std::to_string(value.size()) + "\r\n" + value + "\r\n";
  }
  return wire + "END\r\n";
}

TEST(RequestCodecTest, SetAndGetWireFormat) {
  const RequestCodec codec("k:", 20);
  std::string out;
  codec.AppendSet(70000, &out);
  EXPECT_EQ("set k:0000070000 4464 0 20\r\nk:0000070000iiiiiiii\r\n", out);
  out.clear();
  const std::vector<uint64_t> ids = {1, 22};
  codec.AppendGet(ids, &out);
  EXPECT_EQ("get k:0000000001 k:0000000022\r\n", out);
}

TEST(RequestCodecTest, ValueShorterThanKeyIsAKeyPrefix) {
  const RequestCodec codec("wcb:", 3);
  std::string out;
  codec.AppendSet(5, &out);
  EXPECT_EQ("set wcb:0000000005 5 0 3\r\nwcb\r\n", out);
}

TEST(RequestCodecTest, AllHitsVerify) {
  const RequestCodec codec("wcb:", 100);
  const std::vector<uint64_t> ids = {3, 9, 3, 12};
  const std::string wire = ServerReply(codec, ids);  // the reply's views point into it
  const Reply reply = ParseOk(wire);
  const RequestCodec::GetCheck check = codec.CheckGet(ids, reply);
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(4u, check.hits);
  EXPECT_EQ(0u, check.misses);
}

TEST(RequestCodecTest, MissesAreSkippedKeys) {
  const RequestCodec codec("wcb:", 100);
  const std::vector<uint64_t> asked = {1, 2, 3, 4};
  const std::string wire = ServerReply(codec, {2, 4});
  const Reply reply = ParseOk(wire);
  const RequestCodec::GetCheck check = codec.CheckGet(asked, reply);
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(2u, check.hits);
  EXPECT_EQ(2u, check.misses);
}

TEST(RequestCodecTest, OutOfOrderOrUnaskedKeysFail) {
  const RequestCodec codec("wcb:", 10);
  const std::vector<uint64_t> asked = {1, 2};
  EXPECT_FALSE(codec.CheckGet(asked, ParseOk(ServerReply(codec, {2, 1}))).ok());
  EXPECT_FALSE(codec.CheckGet(asked, ParseOk(ServerReply(codec, {7}))).ok());
}

TEST(RequestCodecTest, WrongBytesOrFlagsFail) {
  const RequestCodec codec("wcb:", 16);
  const std::vector<uint64_t> asked = {1};
  std::string wire = ServerReply(codec, asked);
  std::string corrupt = wire;
  corrupt[corrupt.find("\r\nEND") - 1] ^= 1;  // last value byte
  EXPECT_FALSE(codec.CheckGet(asked, ParseOk(corrupt)).ok());
  std::string bad_flags = wire;
  bad_flags.replace(bad_flags.find(" 1 16"), 5, " 2 16");
  EXPECT_FALSE(codec.CheckGet(asked, ParseOk(bad_flags)).ok());
  EXPECT_TRUE(codec.CheckGet(asked, ParseOk(wire)).ok());
}

TEST(RequestCodecTest, MismatchesAreCountedPerValueAndTheRestStillChecked) {
  const RequestCodec codec("wcb:", 50, ValueKind::kJson);
  const std::vector<uint64_t> asked = {1, 2, 3, 4};
  std::string wire = ServerReply(codec, {1, 2, 4});
  wire[wire.find("VALUE wcb:0000000002") + 30] ^= 1;  // a byte of key 2's value
  const RequestCodec::GetCheck check = codec.CheckGet(asked, ParseOk(wire));
  EXPECT_FALSE(check.ok());
  EXPECT_FALSE(check.unexpected);
  EXPECT_EQ(1u, check.mismatched);
  EXPECT_EQ(2u, check.first_mismatched_id);
  EXPECT_EQ(2u, check.hits);
  EXPECT_EQ(1u, check.misses);
}

}  // namespace
}  // namespace warmcache::tools::bench
