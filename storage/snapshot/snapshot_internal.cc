// SPDX-License-Identifier: BSD-3-Clause
#include "storage/snapshot/snapshot_internal.h"

#include <xxhash.h>

#include <cstring>
#include <string>

namespace warmcache::storage::snapshot::internal {

namespace {

template <typename T>
void Put(std::string* out, T v) {
  // Little-endian regardless of the host, byte by byte.
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

template <typename T>
T Get(std::string_view in, size_t at) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>(v | (static_cast<T>(static_cast<unsigned char>(in[at + i])) << (8 * i)));
  }
  return v;
}

}  // namespace

size_t HeaderBytes(size_t source_len) { return kHeaderFixedBytes + source_len + 8; }

std::string EncodeHeader(const SnapshotInfo& info) {
  std::string out(kFileMagic, sizeof(kFileMagic));
  Put<uint32_t>(&out, kFormatVersion);
  Put<uint64_t>(&out, static_cast<uint64_t>(info.created_unix));
  Put<uint64_t>(&out, info.next_cas);
  Put<uint64_t>(&out, static_cast<uint64_t>(info.flush_oldest_live));
  Put<uint64_t>(&out, info.flush_oldest_cas);
  Put<uint16_t>(&out, static_cast<uint16_t>(info.source.size()));
  out += info.source;
  Put<uint64_t>(&out, XXH64(out.data(), out.size(), 0));
  return out;
}

Result<size_t> CheckHeaderStart(std::string_view fixed) {
  if (fixed.substr(0, sizeof(kFileMagic)) != std::string_view(kFileMagic, sizeof(kFileMagic))) {
    return Status::Corruption("not a warmcache snapshot file");
  }
  const uint32_t version = Get<uint32_t>(fixed, 8);
  if (version > kFormatVersion) {
    return Status::Corruption("snapshot format version " + std::to_string(version) +
                              " is newer than this build reads (" + std::to_string(kFormatVersion) +
                              ")");
  }
  if (version == 0) return Status::Corruption("header: invalid format version 0");
  const size_t source_len = Get<uint16_t>(fixed, 44);
  if (source_len > kMaxSourceBytes) return Status::Corruption("header: source field too long");
  return source_len;
}

Result<SnapshotInfo> DecodeHeader(std::string_view header) {
  const size_t body = header.size() - 8;
  if (XXH64(header.data(), body, 0) != Get<uint64_t>(header, body)) {
    return Status::Corruption("header: checksum mismatch");
  }
  SnapshotInfo info;
  info.format_version = Get<uint32_t>(header, 8);
  info.created_unix = static_cast<int64_t>(Get<uint64_t>(header, 12));
  info.next_cas = Get<uint64_t>(header, 20);
  info.flush_oldest_live = static_cast<int64_t>(Get<uint64_t>(header, 28));
  info.flush_oldest_cas = Get<uint64_t>(header, 36);
  info.source.assign(header.substr(kHeaderFixedBytes, body - kHeaderFixedBytes));
  return info;
}

void AppendFrameHeader(uint32_t raw_len, uint32_t record_count, std::string_view compressed,
                       std::string* out) {
  const size_t start = out->size();
  out->append(kFrameTag, sizeof(kFrameTag));
  Put<uint32_t>(out, static_cast<uint32_t>(compressed.size()));
  Put<uint32_t>(out, raw_len);
  Put<uint32_t>(out, record_count);
  // Seeding with the header's own hash makes the checksum cover the lengths and count too.
  const uint64_t seed = XXH64(out->data() + start, 16, 0);
  Put<uint64_t>(out, XXH64(compressed.data(), compressed.size(), seed));
}

FrameHeader DecodeFrameHeader(std::string_view bytes) {
  FrameHeader h;
  h.compressed_len = Get<uint32_t>(bytes, 4);
  h.raw_len = Get<uint32_t>(bytes, 8);
  h.record_count = Get<uint32_t>(bytes, 12);
  h.checksum = Get<uint64_t>(bytes, 16);
  return h;
}

bool FrameChecksumMatches(std::string_view header_bytes, std::string_view compressed) {
  const uint64_t seed = XXH64(header_bytes.data(), 16, 0);
  return XXH64(compressed.data(), compressed.size(), seed) == Get<uint64_t>(header_bytes, 16);
}

std::string EncodeTrailer(const SnapshotTotals& totals, uint64_t body_checksum) {
  std::string out(kTrailerTag, sizeof(kTrailerTag));
  Put<uint32_t>(&out, 0);  // reserved
  Put<uint64_t>(&out, totals.frames);
  Put<uint64_t>(&out, totals.records);
  Put<uint64_t>(&out, totals.key_bytes);
  Put<uint64_t>(&out, totals.value_bytes);
  Put<uint64_t>(&out, body_checksum);
  Put<uint64_t>(&out, XXH64(out.data(), out.size(), 0));
  return out;
}

Status DecodeTrailer(std::string_view bytes, SnapshotTotals* totals, uint64_t* body_checksum) {
  if (XXH64(bytes.data(), kTrailerBytes - 8, 0) != Get<uint64_t>(bytes, kTrailerBytes - 8) ||
      Get<uint32_t>(bytes, 4) != 0) {
    return Status::Corruption("trailer: checksum mismatch");
  }
  totals->frames = Get<uint64_t>(bytes, 8);
  totals->records = Get<uint64_t>(bytes, 16);
  totals->key_bytes = Get<uint64_t>(bytes, 24);
  totals->value_bytes = Get<uint64_t>(bytes, 32);
  *body_checksum = Get<uint64_t>(bytes, 40);
  return Status::Ok();
}

size_t EncodedRecordBytes(const SnapshotRecord& record) {
  return kRecordHeaderBytes + record.key.size() + record.value.size();
}

void AppendRecord(const SnapshotRecord& record, std::string* out) {
  Put<uint16_t>(out, static_cast<uint16_t>(record.key.size()));
  Put<uint8_t>(out, record.item_bits);
  Put<uint32_t>(out, record.client_flags);
  Put<uint32_t>(out, record.exptime);
  Put<uint64_t>(out, record.cas);
  Put<uint32_t>(out, record.time);
  Put<uint32_t>(out, static_cast<uint32_t>(record.value.size()));
  out->append(record.key);
  out->append(record.value);
}

Status DecodeRecord(std::string_view raw, size_t* pos, SnapshotRecord* record) {
  const size_t at = *pos;
  if (raw.size() - at < kRecordHeaderBytes) return Status::Corruption("record header cut short");
  const size_t key_len = Get<uint16_t>(raw, at);
  const size_t value_len = Get<uint32_t>(raw, at + 23);
  // Compare against what is left, never add untrusted lengths together first.
  const size_t left = raw.size() - at - kRecordHeaderBytes;
  if (key_len == 0 || key_len > left || value_len > left - key_len) {
    return Status::Corruption("record length runs past its frame");
  }
  record->item_bits = Get<uint8_t>(raw, at + 2);
  if (record->item_bits > 0x0f) return Status::Corruption("record has unknown item bits");
  record->client_flags = Get<uint32_t>(raw, at + 3);
  record->exptime = Get<uint32_t>(raw, at + 7);
  record->cas = Get<uint64_t>(raw, at + 11);
  record->time = Get<uint32_t>(raw, at + 19);
  record->key.assign(raw.substr(at + kRecordHeaderBytes, key_len));
  record->value.assign(raw.substr(at + kRecordHeaderBytes + key_len, value_len));
  *pos = at + kRecordHeaderBytes + key_len + value_len;
  return Status::Ok();
}

}  // namespace warmcache::storage::snapshot::internal
