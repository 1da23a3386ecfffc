// SPDX-License-Identifier: BSD-3-Clause
// twemproxy's crc16, crc32 and crc32a key hashes (src/hashkit/nc_crc16.c, nc_crc32.c). The
// tables are generated at compile time from the reflected polynomials instead of being copied:
// 0xA001 gives twemproxy's crc16tab (CRC-16/ARC), 0xEDB88320 its crc32tab.
#include <array>
#include <cstdint>
#include <string_view>

#include "server/ring/key_hash_internal.h"

namespace warmcache::ring {

namespace {

template <typename T>
constexpr std::array<T, 256> ReflectedCrcTable(T polynomial) {
  std::array<T, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    T crc = static_cast<T>(i);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) ? static_cast<T>((crc >> 1) ^ polynomial) : static_cast<T>(crc >> 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = ReflectedCrcTable<uint16_t>(0xA001);
constexpr std::array<uint32_t, 256> kCrc32Table = ReflectedCrcTable<uint32_t>(0xEDB88320u);
// Spot checks against the tables printed in twemproxy's sources.
static_assert(kCrc16Table[1] == 0xC0C1 && kCrc16Table[255] == 0x4040);
static_assert(kCrc32Table[1] == 0x77073096u && kCrc32Table[255] == 0x2D02EF8Du);

uint32_t Crc32Raw(std::string_view key) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : key) crc = (crc >> 8) ^ kCrc32Table[(crc ^ c) & 0xFF];
  return crc;
}

}  // namespace

uint32_t HashCrc16(std::string_view key) {
  uint16_t crc = 0;
  for (unsigned char c : key)
    crc = static_cast<uint16_t>((crc >> 8) ^ kCrc16Table[(crc ^ c) & 0xFF]);
  return crc;
}

// Not CRC-32 as specified: libmemcached kept 15 bits of it, and twemproxy copied that to stay
// compatible. crc32a is the full checksum.
uint32_t HashCrc32(std::string_view key) { return (~Crc32Raw(key) >> 16) & 0x7FFF; }

uint32_t HashCrc32a(std::string_view key) { return ~Crc32Raw(key); }

}  // namespace warmcache::ring
