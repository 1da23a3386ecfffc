// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/base64.h"

#include <cstdint>

namespace warmcache::protocol {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

size_t Base64Decode(std::string_view in, char* out) {
  if (in.empty() || in.size() % 4 != 0) return 0;
  size_t n = 0;
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = in[i + static_cast<size_t>(j)];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return 0;  // data after padding
      v[j] = Value(c);
      if (v[j] < 0) return 0;
    }
    const uint32_t bits = (static_cast<uint32_t>(v[0]) << 18) |
                          (static_cast<uint32_t>(v[1]) << 12) | (static_cast<uint32_t>(v[2]) << 6) |
                          static_cast<uint32_t>(v[3]);
    out[n++] = static_cast<char>(bits >> 16);
    if (pad < 2) out[n++] = static_cast<char>((bits >> 8) & 0xff);
    if (pad < 1) out[n++] = static_cast<char>(bits & 0xff);
  }
  return n;
}

void Base64Encode(std::string_view in, std::string* out) {
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t bits = (static_cast<uint8_t>(in[i]) << 16) |
                          (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out->push_back(kAlphabet[(bits >> shift) & 63]);
  }
  if (i < in.size()) {
    uint32_t bits = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) bits |= static_cast<uint8_t>(in[i + 1]) << 8;
    out->push_back(kAlphabet[(bits >> 18) & 63]);
    out->push_back(kAlphabet[(bits >> 12) & 63]);
    out->push_back(i + 1 < in.size() ? kAlphabet[(bits >> 6) & 63] : '=');
    out->push_back('=');
  }
}

}  // namespace warmcache::protocol
