// SPDX-License-Identifier: BSD-3-Clause
#include "storage/rocks/record_codec.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

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

namespace warmcache::storage::rocks {
namespace {

// A small JSON object of the kind a dictionary helps: field names repeat across values, not
// within one.
std::string SmallRecord(int i) {
  return R"({"order_id":)" + std::to_string(100000 + i * 7) + R"(,"customer":"user)" +
         std::to_string(i % 97) + R"(","status":")" + (i % 3 ? "shipped" : "pending") +
         R"(","amount_cents":)" + std::to_string(1000 + i * 13 % 9000) + "}";
}

std::unique_ptr<Dictionary> TrainedDictionary() {
  std::vector<std::string> samples;
  for (int i = 0; i < 4000; ++i) samples.push_back(SmallRecord(i));
  auto dict = Dictionary::Train(samples, 16u << 10, 3);
  EXPECT_TRUE(dict.ok()) << dict.status().ToString();
  return dict.ok() ? std::move(dict).value() : nullptr;
}

TEST(RecordCodecDictionaryTest, SmallValuesShrinkFurtherAndRoundTrip) {
  RecordCodec plain{CodecOptions{}};
  RecordCodec with_dict{CodecOptions{}};
  with_dict.SetDictionary(TrainedDictionary());
  ASSERT_NE(nullptr, with_dict.dictionary());
  size_t plain_bytes = 0;
  size_t dict_bytes = 0;
  for (int i = 5000; i < 5100; ++i) {
    const std::string value = SmallRecord(i);
    std::string a;
    std::string b;
    plain.Encode(Meta(), value, &a);
    with_dict.Encode(Meta(), value, &b);
    plain_bytes += a.size();
    dict_bytes += b.size();
    RecordMeta meta;
    std::string decoded;
    ASSERT_TRUE(with_dict.Decode(b, &meta, &decoded).ok());
    EXPECT_EQ(value, decoded);
  }
  EXPECT_LT(dict_bytes * 3, plain_bytes * 2) << "a dictionary should save a third at least";
}

TEST(RecordCodecDictionaryTest, ADictionaryRecordNeedsThatDictionary) {
  RecordCodec with_dict{CodecOptions{}};
  with_dict.SetDictionary(TrainedDictionary());
  std::string record;
  with_dict.Encode(Meta(), SmallRecord(1), &record);
  RecordCodec without{CodecOptions{}};
  RecordMeta meta;
  std::string value;
  EXPECT_EQ(StatusCode::kCorruption, without.Decode(record, &meta, &value).code());
  // A second dictionary is refused: records written with the first would become unreadable.
  const Dictionary* first = with_dict.dictionary();
  with_dict.SetDictionary(TrainedDictionary());
  EXPECT_EQ(first, with_dict.dictionary());
}

TEST(RecordCodecDictionaryTest, BytesThatAreNotADictionaryAreRefused) {
  EXPECT_EQ(StatusCode::kCorruption, Dictionary::FromBytes("not a dictionary", 3).status().code());
}

}  // namespace
}  // namespace warmcache::storage::rocks
