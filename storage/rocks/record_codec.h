// SPDX-License-Identifier: BSD-3-Clause
// The warm tier's on-disk value encoding (see FORMAT.md): a versioned, checksummed header with
// the item's metadata, then the value, zstd-compressed when that pays.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  // With a dictionary, values up to this size are compressed with it (it is what helps small
  // values, whose own bytes hold too little to compress well).
  size_t dictionary_max_value = 4096;
};

// A zstd dictionary trained from sample values (ZDICT), for small values.
// Thread safety: immutable once built; shared by every thread.
class Dictionary {
 public:
  // Trains one of at most `capacity` bytes; kInvalidArgument if the samples cannot make one.
  static Result<std::unique_ptr<Dictionary>> Train(const std::vector<std::string>& samples,
                                                   size_t capacity, int level);
  // A dictionary from its bytes (as Train produced them); kCorruption if they are not one.
  static Result<std::unique_ptr<Dictionary>> FromBytes(std::string bytes, int level);
  // A dictionary saved in a file; kNotFound if there is none, kCorruption if it is not one.
  static Result<std::unique_ptr<Dictionary>> FromFile(const std::string& path, int level);
  ~Dictionary();
  const std::string& bytes() const { return bytes_; }
  uint32_t id() const { return id_; }

 private:
  friend class RecordCodec;
  Dictionary() = default;
  std::string bytes_;
  uint32_t id_ = 0;
  struct ZstdDicts;
  std::unique_ptr<ZstdDicts> zstd_;
};

// Thread safety: all methods may be called from any thread (zstd contexts are per thread).
class RecordCodec {
 public:
  static constexpr uint8_t kVersion = 1;
  static constexpr size_t kHeaderSize = 30;

  explicit RecordCodec(const CodecOptions& options) : options_(options) {}
  ~RecordCodec();
  RecordCodec(const RecordCodec&) = delete;
  RecordCodec& operator=(const RecordCodec&) = delete;

  // From now on, small values are compressed with `dictionary` (FORMAT.md, codec 2). Set at
  // most once; records written with it need it to be read.
  void SetDictionary(std::unique_ptr<Dictionary> dictionary);
  const Dictionary* dictionary() const { return dictionary_.load(std::memory_order_acquire); }
  const CodecOptions& options() const { return options_; }

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
  // Compresses `value` into out[at...]; the frame's size, or 0 if it did not shrink.
  size_t Compress(std::string_view value, const Dictionary* dict, std::string* out,
                  size_t at) const;

  CodecOptions options_;
  std::atomic<const Dictionary*> dictionary_{nullptr};  // owned by owned_dictionary_
  std::unique_ptr<Dictionary> owned_dictionary_;
};

}  // namespace warmcache::storage::rocks
