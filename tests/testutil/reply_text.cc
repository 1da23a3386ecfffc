// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/reply_text.h"

#include <random>

namespace warmcache::testutil {

std::string Value(const std::string& key, uint32_t flags, const std::string& data,
                  std::optional<uint64_t> cas) {
  std::string line =
      "VALUE " + key + " " + std::to_string(flags) + " " + std::to_string(data.size());
  if (cas) line += " " + std::to_string(*cas);
  return line + "\r\n" + data + "\r\n";
}

std::string AwkwardBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string bytes(size, '\0');
  for (char& ch : bytes) ch = static_cast<char>(rng());
  const std::string plant("\r\n\0\r\nEND\r\n\0", 12);
  for (size_t at = 1; at + plant.size() < size; at += size / 3 + 1) bytes.replace(at, 12, plant);
  return bytes;
}

}  // namespace warmcache::testutil
