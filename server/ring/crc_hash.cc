// SPDX-License-Identifier: BSD-3-Clause
// twemproxy 0.5.0's crc16, crc32 and crc32a key hashes (src/hashkit/nc_crc16.c, nc_crc32.c).
// The tables are generated at compile time instead of being copied: polynomial 0x1021 gives
// 0.5.0's crc16tab (CRC-16/XMODEM, as Redis Cluster's), the reflected 0xEDB88320 its crc32tab.
// (twemproxy's later master switched crc16 to CRC-16/ARC; Debian 12's nutcracker is 0.5.0.)
#include <array>
#include <cstdint>
#include <string_view>

#include "server/ring/key_hash_internal.h"

namespace warmcache::ring {

namespace {

constexpr std::array<uint32_t, 256> Crc16Table() {  // MSB first
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i << 8;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xFFFF;
  }
  return table;
}

constexpr std::array<uint32_t, 256> Crc32Table() {  // reflected, LSB first
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc16Table = Crc16Table();
constexpr std::array<uint32_t, 256> kCrc32Table = Crc32Table();
// Spot checks against the tables printed in twemproxy's sources.
static_assert(kCrc16Table[1] == 0x1021 && kCrc16Table[255] == 0x1EF0);
static_assert(kCrc32Table[1] == 0x77073096u && kCrc32Table[255] == 0x2D02EF8Du);

uint32_t Crc32Raw(std::string_view key) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : key) crc = (crc >> 8) ^ kCrc32Table[(crc ^ c) & 0xFF];
  return crc;
}

}  // namespace

// CRC-16/XMODEM in a 32-bit accumulator that is never cut back to 16 bits: the bits shifted
// past bit 15 stay, so values go up to 32 bits. That is what 0.5.0 routes by.
uint32_t HashCrc16(std::string_view key) {
  uint32_t crc = 0;
  for (unsigned char c : key) crc = (crc << 8) ^ kCrc16Table[((crc >> 8) ^ c) & 0xFF];
  return crc;
}

// Not CRC-32 as specified: libmemcached kept 15 bits of it, and twemproxy copied that to stay
// compatible. crc32a is the full checksum.
uint32_t HashCrc32(std::string_view key) { return (~Crc32Raw(key) >> 16) & 0x7FFF; }

uint32_t HashCrc32a(std::string_view key) { return ~Crc32Raw(key); }

}  // namespace warmcache::ring
