// SPDX-License-Identifier: BSD-3-Clause
// Folder-only helpers shared by key_hash.cc and ring.cc.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace warmcache::ring {

using Md5Digest = std::array<uint8_t, 16>;
Md5Digest Md5(std::string_view data);

// The 4 bytes of `digest` at offset 4 * `word`, read little-endian: both ketama's point values
// (word 0..3) and the md5 key hash (word 0) are taken this way.
inline uint32_t DigestWord(const Md5Digest& digest, int word) {
  const uint8_t* p = digest.data() + 4 * word;
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// twemproxy's CRC-32 variants and CRC-16 (crc_hash.cc).
uint32_t HashCrc16(std::string_view key);
uint32_t HashCrc32(std::string_view key);   // libmemcached's: (~crc >> 16) & 0x7fff
uint32_t HashCrc32a(std::string_view key);  // the standard CRC-32 (as zlib)

}  // namespace warmcache::ring
