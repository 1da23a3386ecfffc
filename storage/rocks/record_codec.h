// SPDX-License-Identifier: BSD-3-Clause
// The warm tier's on-disk value encoding (see FORMAT.md): a versioned, checksummed header with
// the item's metadata, then the value, zstd-compressed when that pays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/common/status.h"

namespace warmcache::storage::rocks {

// What a record carries besides the value.
struct RecordMeta {
  uint32_t client_flags = 0;
  uint32_t exptime = 0;  // absolute unix seconds; 0 = never
  uint64_t cas = 0;
  uint32_t time = 0;       // last store or access, unix seconds (flush_all, LRU age)
  uint32_t value_len = 0;  // the value's raw length
  uint8_t item_bits = 0;   // 4 bits of item state (ItemBits), opaque to the codec
};

struct CodecOptions {
  size_t compress_min = 64;  // values shorter than this are stored raw
  int level = 3;             // zstd level
};

// Thread safety: all methods may be called from any thread (zstd contexts are per thread).
class RecordCodec {
 public:
  static constexpr uint8_t kVersion = 1;
  static constexpr size_t kHeaderSize = 30;

  explicit RecordCodec(const CodecOptions& options) : options_(options) {}

  // Appends the record for `value` to *out. Compressed only if that makes it smaller.
  void Encode(const RecordMeta& meta, std::string_view value, std::string* out) const;
  // The header alone, checked for version and length: enough for expiry and CAS decisions
  // (the compaction filter) without touching the value. kCorruption on a bad header.
  Result<RecordMeta> DecodeMeta(std::string_view record) const;
  // The whole record, checksum verified and value decompressed into *value.
  // kCorruption for a torn, truncated or tampered record: never a wrong value.
  Status Decode(std::string_view record, RecordMeta* meta, std::string* value) const;
  // The value alone, into `out` (meta.value_len bytes; `meta` from DecodeMeta of this record),
  // checksum verified: lets the caller decompress straight into an item.
  Status DecodeValue(std::string_view record, const RecordMeta& meta, char* out) const;

 private:
  CodecOptions options_;
};

}  // namespace warmcache::storage::rocks
