// SPDX-License-Identifier: BSD-3-Clause
#include "storage/rocks/record_codec.h"

#include <xxhash.h>
#include <zdict.h>
#include <zstd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

namespace warmcache::storage::rocks {

namespace {

enum Codec : uint8_t { kRaw = 0, kZstd = 1, kZstdDict = 2 };
// The codec byte's high nibble carries the item's meta-protocol bits (RecordMeta::item_bits).
constexpr int kItemBitsShift = 4;
constexpr uint8_t kCodecMask = 0x0f;

// Header layout (little-endian), FORMAT.md has the table.
constexpr size_t kVersionAt = 0;
constexpr size_t kCodecAt = 1;
constexpr size_t kFlagsAt = 2;
constexpr size_t kExptimeAt = 6;
constexpr size_t kCasAt = 10;
constexpr size_t kTimeAt = 18;
constexpr size_t kLengthAt = 22;
constexpr size_t kChecksumAt = 26;

template <typename T>
void Put(char* at, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) at[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

template <typename T>
T Get(const char* at) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<uint8_t>(at[i])) << (8 * i);
  }
  return value;
}

// Over everything but the checksum field itself: the header's hash seeds the payload's.
uint32_t Checksum(std::string_view record) {
  const uint32_t header = XXH32(record.data(), kChecksumAt, 0);
  return XXH32(record.data() + RecordCodec::kHeaderSize, record.size() - RecordCodec::kHeaderSize,
               header);
}

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* ThreadCompressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> ctx(ZSTD_createCCtx());
  return ctx.get();
}

ZSTD_DCtx* ThreadDecompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> ctx(ZSTD_createDCtx());
  return ctx.get();
}

}  // namespace

// ---- Dictionary ----

struct Dictionary::ZstdDicts {
  ZSTD_CDict* cdict = nullptr;
  ZSTD_DDict* ddict = nullptr;
  ~ZstdDicts() {
    ZSTD_freeCDict(cdict);
    ZSTD_freeDDict(ddict);
  }
};

Dictionary::~Dictionary() = default;

Result<std::unique_ptr<Dictionary>> Dictionary::FromBytes(std::string bytes, int level) {
  const unsigned id = ZDICT_getDictID(bytes.data(), bytes.size());
  if (id == 0) return Status::Corruption("not a zstd dictionary");
  std::unique_ptr<Dictionary> dict(new Dictionary());
  dict->bytes_ = std::move(bytes);
  dict->id_ = id;
  dict->zstd_ = std::make_unique<ZstdDicts>();
  dict->zstd_->cdict = ZSTD_createCDict(dict->bytes_.data(), dict->bytes_.size(), level);
  dict->zstd_->ddict = ZSTD_createDDict(dict->bytes_.data(), dict->bytes_.size());
  if (dict->zstd_->cdict == nullptr || dict->zstd_->ddict == nullptr) {
    return Status::Corruption("zstd refused the dictionary");
  }
  return dict;
}

Result<std::unique_ptr<Dictionary>> Dictionary::Train(const std::vector<std::string>& samples,
                                                      size_t capacity, int level) {
  std::string joined;
  std::vector<size_t> sizes;
  for (const std::string& s : samples) {
    joined += s;
    sizes.push_back(s.size());
  }
  std::string bytes(capacity, '\0');
  const size_t n = ZDICT_trainFromBuffer(bytes.data(), bytes.size(), joined.data(), sizes.data(),
                                         static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) {
    return Status::InvalidArgument(std::string("no dictionary: ") + ZDICT_getErrorName(n));
  }
  bytes.resize(n);
  return FromBytes(std::move(bytes), level);
}

Result<std::unique_ptr<Dictionary>> Dictionary::FromFile(const std::string& path, int level) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::NotFound(path);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return FromBytes(std::move(bytes), level);
}

// ---- RecordCodec ----

RecordCodec::~RecordCodec() = default;

void RecordCodec::SetDictionary(std::unique_ptr<Dictionary> dictionary) {
  if (owned_dictionary_) return;  // records already written with one need exactly that one
  owned_dictionary_ = std::move(dictionary);
  dictionary_.store(owned_dictionary_.get(), std::memory_order_release);
}

size_t RecordCodec::Compress(std::string_view value, const Dictionary* dict, std::string* out,
                             size_t at) const {
  const size_t bound = ZSTD_compressBound(value.size());
  out->resize(at + bound);
  const size_t n = dict != nullptr
                       ? ZSTD_compress_usingCDict(ThreadCompressor(), out->data() + at, bound,
                                                  value.data(), value.size(), dict->zstd_->cdict)
                       : ZSTD_compressCCtx(ThreadCompressor(), out->data() + at, bound,
                                           value.data(), value.size(), options_.level);
  return !ZSTD_isError(n) && n < value.size() ? n : 0;
}

void RecordCodec::Encode(const RecordMeta& meta, std::string_view value, std::string* out) const {
  const size_t start = out->size();
  out->resize(start + kHeaderSize);
  uint8_t codec = kRaw;
  if (value.size() >= options_.compress_min) {
    const Dictionary* dict = dictionary();
    if (dict != nullptr && value.size() > options_.dictionary_max_value) dict = nullptr;
    const size_t n = Compress(value, dict, out, start + kHeaderSize);
    if (n > 0) {
      codec = dict != nullptr ? kZstdDict : kZstd;
      out->resize(start + kHeaderSize + n);
    }
  }
  if (codec == kRaw) {
    out->resize(start + kHeaderSize);
    out->append(value);
  }
  char* h = out->data() + start;
  h[kVersionAt] = static_cast<char>(kVersion);
  h[kCodecAt] = static_cast<char>(codec | (meta.item_bits << kItemBitsShift));
  Put<uint32_t>(h + kFlagsAt, meta.client_flags);
  Put<uint32_t>(h + kExptimeAt, meta.exptime);
  Put<uint64_t>(h + kCasAt, meta.cas);
  Put<uint32_t>(h + kTimeAt, meta.time);
  Put<uint32_t>(h + kLengthAt, static_cast<uint32_t>(value.size()));
  Put<uint32_t>(h + kChecksumAt, Checksum(std::string_view(*out).substr(start)));
}

Result<RecordMeta> RecordCodec::DecodeMeta(std::string_view record) const {
  if (record.size() < kHeaderSize) return Status::Corruption("record shorter than its header");
  if (static_cast<uint8_t>(record[kVersionAt]) != kVersion) {
    return Status::Corruption("unknown record version");
  }
  const auto codec = static_cast<uint8_t>(record[kCodecAt] & kCodecMask);
  if (codec != kRaw && codec != kZstd && codec != kZstdDict) {
    return Status::Corruption("unknown record codec");
  }
  RecordMeta meta;
  meta.item_bits = static_cast<uint8_t>(record[kCodecAt]) >> kItemBitsShift;
  meta.client_flags = Get<uint32_t>(record.data() + kFlagsAt);
  meta.exptime = Get<uint32_t>(record.data() + kExptimeAt);
  meta.cas = Get<uint64_t>(record.data() + kCasAt);
  meta.time = Get<uint32_t>(record.data() + kTimeAt);
  meta.value_len = Get<uint32_t>(record.data() + kLengthAt);
  if (codec == kRaw && record.size() - kHeaderSize != meta.value_len) {
    return Status::Corruption("raw record length mismatch");
  }
  return meta;
}

Status RecordCodec::Decode(std::string_view record, RecordMeta* meta, std::string* value) const {
  Result<RecordMeta> decoded = DecodeMeta(record);
  if (!decoded.ok()) return decoded.status();
  *meta = *decoded;
  value->resize(meta->value_len);
  return DecodeValue(record, *meta, value->data());
}

Status RecordCodec::DecodeValue(std::string_view record, const RecordMeta& meta, char* out) const {
  if (Get<uint32_t>(record.data() + kChecksumAt) != Checksum(record)) {
    return Status::Corruption("record checksum mismatch");
  }
  const std::string_view payload = record.substr(kHeaderSize);
  const auto codec = static_cast<uint8_t>(record[kCodecAt] & kCodecMask);
  if (codec == kRaw) {
    std::memcpy(out, payload.data(), payload.size());
    return Status::Ok();
  }
  const Dictionary* dict = dictionary();
  if (codec == kZstdDict &&
      (dict == nullptr || ZSTD_getDictID_fromFrame(payload.data(), payload.size()) != dict->id())) {
    return Status::Corruption("record needs a dictionary this database does not have");
  }
  const size_t n =
      codec == kZstdDict
          ? ZSTD_decompress_usingDDict(ThreadDecompressor(), out, meta.value_len, payload.data(),
                                       payload.size(), dict->zstd_->ddict)
          : ZSTD_decompressDCtx(ThreadDecompressor(), out, meta.value_len, payload.data(),
                                payload.size());
  if (ZSTD_isError(n) || n != meta.value_len) {
    return Status::Corruption("record does not decompress to its length");
  }
  return Status::Ok();
}

}  // namespace warmcache::storage::rocks
