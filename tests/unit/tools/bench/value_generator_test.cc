// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/value_generator.h"

#include <gtest/gtest.h>

#include <string>

#include "tools/bench/request_codec.h"

namespace warmcache::tools::bench {
namespace {

constexpr char kGuard = '\x7f';

// Fills a buffer with guard bytes on both sides, so a write past `size` shows.
std::string Generate(const ValueGenerator& values, uint64_t key_id) {
  const RequestCodec codec("wcb:", 0);
  std::string buffer(values.size() + 16, kGuard);
  values.Fill(key_id, codec.Key(key_id), buffer.data() + 8);
  EXPECT_EQ(std::string(8, kGuard), buffer.substr(0, 8));
  EXPECT_EQ(std::string(8, kGuard), buffer.substr(values.size() + 8));
  return buffer.substr(8, values.size());
}

// Brackets and braces balance outside strings, and strings close: enough to call it JSON here.
bool LooksLikeJsonObject(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  for (char c : text) {
    if (in_string) {
      in_string = c != '"';
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth < 0) return false;
    }
  }
  return !in_string && depth == 0 && text.front() == '{' && text.back() == '}';
}

TEST(ValueGeneratorTest, FillIsKeyThenOneLetter) {
  const ValueGenerator values(ValueKind::kFill, 20);
  EXPECT_EQ("wcb:0000070000iiiiii", Generate(values, 70000));
  EXPECT_EQ("wcb", Generate(ValueGenerator(ValueKind::kFill, 3), 5));
}

TEST(ValueGeneratorTest, JsonHasExactlyTheAskedSizeAtEverySize) {
  for (uint32_t size = 0; size <= 1200; ++size) {
    const std::string value = Generate(ValueGenerator(ValueKind::kJson, size), size * 31);
    ASSERT_EQ(size, value.size()) << "size " << size;
  }
}

TEST(ValueGeneratorTest, JsonIsAValidObjectFromThreeHundredBytes) {
  for (uint32_t size = 300; size <= 4000; size += 7) {
    const std::string value = Generate(ValueGenerator(ValueKind::kJson, size), size);
    EXPECT_TRUE(LooksLikeJsonObject(value)) << "size " << size << ": " << value;
  }
  const std::string value = Generate(ValueGenerator(ValueKind::kJson, 1000), 42);
  EXPECT_EQ(0u, value.find("{\"id\":42,\"key\":\"wcb:0000000042\",")) << value;
  EXPECT_NE(std::string::npos, value.find("\"lines\":[{\"sku\":")) << value;
}

TEST(ValueGeneratorTest, SmallJsonIsAPrefixOfALargerRecord) {
  const std::string big = Generate(ValueGenerator(ValueKind::kJson, 1000), 9);
  const std::string small = Generate(ValueGenerator(ValueKind::kJson, 60), 9);
  EXPECT_EQ(big.substr(0, 60), small);
}

TEST(ValueGeneratorTest, JsonIsAPureFunctionOfTheKey) {
  const ValueGenerator values(ValueKind::kJson, 1000);
  EXPECT_EQ(Generate(values, 123456), Generate(values, 123456));
  EXPECT_NE(Generate(values, 123456), Generate(values, 123457));
  // Values differ in more than the id and key: the numbers and words vary per key too.
  const std::string a = Generate(values, 1);
  const std::string b = Generate(values, 2);
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i] != b[i];
  EXPECT_GT(differing, 100u);
}

TEST(ValueGeneratorTest, MatchesOnlyTheExactBytes) {
  const RequestCodec codec("wcb:", 0);
  for (ValueKind kind : {ValueKind::kFill, ValueKind::kJson}) {
    const ValueGenerator values(kind, 1000);
    const std::string key = codec.Key(77);
    const std::string good = Generate(values, 77);
    EXPECT_TRUE(values.Matches(77, key, good));
    EXPECT_FALSE(values.Matches(78, codec.Key(78), good));
    EXPECT_FALSE(values.Matches(77, key, good.substr(0, 999)));
    EXPECT_FALSE(values.Matches(77, key, good + "x"));
    for (size_t at = 0; at < good.size(); at += 37) {
      std::string bad = good;
      bad[at] ^= 0x20;
      EXPECT_FALSE(values.Matches(77, key, bad)) << ValueKindName(kind) << " byte " << at;
    }
  }
}

}  // namespace
}  // namespace warmcache::tools::bench
