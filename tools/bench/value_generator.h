// SPDX-License-Identifier: BSD-3-Clause
// The bytes of every value the bench writes: a pure function of the key id, so any reply can be
// checked byte for byte without remembering what was sent.
#pragma once

#include <cstdint>
#include <string_view>

namespace warmcache::tools::bench {

enum class ValueKind {
  kFill,  // the key's text, then one letter repeated (compresses to almost nothing)
  kJson,  // a JSON order record with repeated field names and varying words and numbers,
          // about 3x compressible by zstd, like typical cached API responses
};

// Thread safety: const and shareable; Matches() uses a per-thread scratch buffer.
class ValueGenerator {
 public:
  ValueGenerator(ValueKind kind, uint32_t size) : kind_(kind), size_(size) {}

  // Writes exactly size() bytes for `key_id` into `out`. `key` is that id's key text.
  void Fill(uint64_t key_id, std::string_view key, char* out) const;
  // True if `data` is exactly what Fill() writes for `key_id`.
  bool Matches(uint64_t key_id, std::string_view key, std::string_view data) const;

  ValueKind kind() const { return kind_; }
  uint32_t size() const { return size_; }

 private:
  ValueKind kind_;
  uint32_t size_;
};

const char* ValueKindName(ValueKind kind);

}  // namespace warmcache::tools::bench
