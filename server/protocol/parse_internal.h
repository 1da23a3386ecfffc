// SPDX-License-Identifier: BSD-3-Clause
// Shared by the text and meta parsers (folder-internal): memcached's tokenizer and the
// ParseResult shorthands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "server/protocol/text_parser.h"

namespace warmcache::protocol {

// memcached's tokenizer: splits on single spaces only, stops after 23 tokens and keeps the
// unread remainder; `count` includes memcached's terminal token, so the arity checks below
// read exactly like memcached's.
struct Tokens {
  static constexpr size_t kMax = 24;
  // Offsets, not string_views: a plain array left uninitialised costs nothing per request.
  struct Span {
    uint32_t offset;
    uint32_t length;
  };
  std::string_view line;
  Span spans[kMax];
  size_t count = 0;

  std::string_view v(size_t i) const { return line.substr(spans[i].offset, spans[i].length); }
  std::string_view last() const { return v(count - 2); }
};

inline void Tokenize(std::string_view line, Tokens* t) {
  size_t real = 0;
  size_t pos = 0;
  const size_t n = line.size();
  t->line = line;
  while (pos < n) {
    if (line[pos] == ' ') {
      ++pos;
      continue;
    }
    const void* space = std::memchr(line.data() + pos, ' ', n - pos);
    const size_t end =
        space ? static_cast<size_t>(static_cast<const char*>(space) - line.data()) : n;
    t->spans[real++] = {static_cast<uint32_t>(pos), static_cast<uint32_t>(end - pos)};
    pos = end;
    // memcached stops after 23 tokens and leaves the rest of the line unread.
    if (real == Tokens::kMax - 1) break;
  }
  t->count = real + 1;
}

inline ParseResult ParsedOk(size_t consumed) { return {ParseStatus::kOk, consumed, 0, {}}; }
inline ParseResult ParseFailed(size_t consumed, std::string_view reply, bool noreply = false) {
  return {ParseStatus::kError, consumed, 0, noreply ? std::string_view() : reply};
}

}  // namespace warmcache::protocol
