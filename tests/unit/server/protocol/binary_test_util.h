// SPDX-License-Identifier: BSD-3-Clause
// Builders for binary-protocol frames in tests: requests from fields, bytes from hex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/protocol/binary_codec.h"

namespace warmcache::protocol::binary::testing {

inline std::string Be16(uint16_t v) {
  return std::string{static_cast<char>(v >> 8), static_cast<char>(v)};
}
inline std::string Be32(uint32_t v) { return Be16(static_cast<uint16_t>(v >> 16)) + Be16(v); }
inline std::string Be64(uint64_t v) {
  return Be32(static_cast<uint32_t>(v >> 32)) + Be32(static_cast<uint32_t>(v));
}

// A request frame. The lengths default to the sizes of the parts; set them to lie.
struct Frame {
  uint8_t magic = 0x80;
  uint8_t opcode = 0;
  std::string extras = {};
  std::string key = {};
  std::string value = {};
  uint32_t opaque = 0;
  uint64_t cas = 0;
  uint8_t data_type = 0;
  uint16_t vbucket = 0;
  std::optional<uint16_t> key_length = {};
  std::optional<uint8_t> extras_length = {};
  std::optional<uint32_t> body_length = {};

  std::string Bytes() const {
    const uint32_t body =
        body_length.value_or(static_cast<uint32_t>(extras.size() + key.size() + value.size()));
    std::string out;
    out += static_cast<char>(magic);
    out += static_cast<char>(opcode);
    out += Be16(key_length.value_or(static_cast<uint16_t>(key.size())));
    out += static_cast<char>(extras_length.value_or(static_cast<uint8_t>(extras.size())));
    out += static_cast<char>(data_type);
    out += Be16(vbucket);
    out += Be32(body);
    out += Be32(opaque);
    out += Be64(cas);
    return out + extras + key + value;
  }
};

inline std::string Req(Opcode op, std::string key = "", std::string extras = "",
                       std::string value = "", uint32_t opaque = 0, uint64_t cas = 0) {
  Frame f;
  f.opcode = static_cast<uint8_t>(op);
  f.key = std::move(key);
  f.extras = std::move(extras);
  f.value = std::move(value);
  f.opaque = opaque;
  f.cas = cas;
  return f.Bytes();
}

inline std::string StoreExtras(uint32_t flags, uint32_t exptime) {
  return Be32(flags) + Be32(exptime);
}
inline std::string DeltaExtras(uint64_t delta, uint64_t initial, uint32_t exptime) {
  return Be64(delta) + Be64(initial) + Be32(exptime);
}

// "81 00 0a" -> bytes; spaces are ignored.
inline std::string FromHex(std::string_view hex) {
  std::string out;
  int nibbles = 0;
  unsigned byte = 0;
  for (char c : hex) {
    if (c == ' ') continue;
    const unsigned v =
        c <= '9' ? static_cast<unsigned>(c - '0') : static_cast<unsigned>((c | 0x20) - 'a' + 10);
    byte = byte << 4 | v;
    if (++nibbles % 2 == 0) {
      out += static_cast<char>(byte);
      byte = 0;
    }
  }
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace warmcache::protocol::binary::testing
