// SPDX-License-Identifier: BSD-3-Clause
#include "storage/rocks/record_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace warmcache::storage::rocks {
namespace {

RecordMeta Meta() {
  RecordMeta meta;
  meta.client_flags = 0xdeadbeef;
  meta.exptime = 1'900'000'000;
  meta.cas = 0x0102030405060708;
  meta.time = 1'800'000'000;
  return meta;
}

std::string JsonLike(size_t n) {
  std::string s;
  while (s.size() < n) s += R"({"user":"someone","id":12345,"tags":["a","b"],"active":true},)";
  s.resize(n);
  return s;
}

class RecordCodecTest : public ::testing::Test {
 protected:
  RecordCodec codec_{CodecOptions{}};
};

TEST_F(RecordCodecTest, RoundTripsSmallRawValues) {
  for (const std::string& value : {std::string(), std::string("x"), std::string("\r\n\0z", 4)}) {
    std::string record;
    codec_.Encode(Meta(), value, &record);
    EXPECT_EQ(RecordCodec::kHeaderSize + value.size(), record.size());  // raw: not worth it
    RecordMeta meta;
    std::string back;
    ASSERT_TRUE(codec_.Decode(record, &meta, &back).ok());
    EXPECT_EQ(value, back);
    EXPECT_EQ(0xdeadbeefu, meta.client_flags);
    EXPECT_EQ(1'900'000'000u, meta.exptime);
    EXPECT_EQ(0x0102030405060708u, meta.cas);
    EXPECT_EQ(1'800'000'000u, meta.time);
    EXPECT_EQ(value.size(), meta.value_len);
  }
}

TEST_F(RecordCodecTest, CompressesCompressibleValues) {
  const std::string value = JsonLike(1000);
  std::string record;
  codec_.Encode(Meta(), value, &record);
  EXPECT_LT(record.size(), value.size() / 3) << "JSON-like text should shrink well";
  RecordMeta meta;
  std::string back;
  ASSERT_TRUE(codec_.Decode(record, &meta, &back).ok());
  EXPECT_EQ(value, back);
}

TEST_F(RecordCodecTest, IncompressibleValuesStayRaw) {
  std::string value(4096, '\0');
  uint32_t x = 12345;
  for (char& c : value) {
    x = x * 1664525 + 1013904223;
    c = static_cast<char>(x >> 24);
  }
  std::string record;
  codec_.Encode(Meta(), value, &record);
  EXPECT_EQ(RecordCodec::kHeaderSize + value.size(), record.size());
}

TEST_F(RecordCodecTest, HeaderAloneGivesTheMetadata) {
  std::string record;
  codec_.Encode(Meta(), JsonLike(500), &record);
  auto meta = codec_.DecodeMeta(record);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(1'900'000'000u, meta->exptime);
  EXPECT_EQ(500u, meta->value_len);
}

TEST_F(RecordCodecTest, AnyDamageIsCorruptionNeverAWrongValue) {
  for (const std::string& value : {std::string("short raw value"), JsonLike(800)}) {
    std::string record;
    codec_.Encode(Meta(), value, &record);
    for (size_t i = 0; i < record.size(); ++i) {
      std::string damaged = record;
      damaged[i] = static_cast<char>(damaged[i] ^ 0x40);
      RecordMeta meta;
      std::string back;
      EXPECT_EQ(StatusCode::kCorruption, codec_.Decode(damaged, &meta, &back).code())
          << "byte " << i << " of " << record.size();
    }
    for (size_t cut = 0; cut < record.size(); ++cut) {
      RecordMeta meta;
      std::string back;
      EXPECT_FALSE(codec_.Decode(record.substr(0, cut), &meta, &back).ok()) << "cut " << cut;
    }
  }
}

}  // namespace
}  // namespace warmcache::storage::rocks
