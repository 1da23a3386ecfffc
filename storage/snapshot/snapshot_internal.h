// SPDX-License-Identifier: BSD-3-Clause
// Folder-only: the byte encodings shared by SnapshotWriter and SnapshotReader (FORMAT.md).
// Pure functions on memory buffers; no I/O, no compression.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/common/status.h"
#include "storage/snapshot/snapshot_format.h"

namespace warmcache::storage::snapshot::internal {

// The fixed-size part of a frame, before its compressed bytes.
struct FrameHeader {
  uint32_t compressed_len = 0;
  uint32_t raw_len = 0;
  uint32_t record_count = 0;
  uint64_t checksum = 0;  // XXH64 of the compressed bytes, seeded with XXH64 of bytes 0..15
};

// Serialized header: magic .. source, then its checksum.
std::string EncodeHeader(const SnapshotInfo& info);
size_t HeaderBytes(size_t source_len);
// `fixed` holds the first kHeaderFixedBytes. Checks magic and version (the messages users see
// for a foreign or newer file) and returns the source length still to read.
Result<size_t> CheckHeaderStart(std::string_view fixed);
// `header` holds HeaderBytes(source_len) bytes; verifies the checksum and decodes.
Result<SnapshotInfo> DecodeHeader(std::string_view header);

// Appends a frame header for `compressed`.
void AppendFrameHeader(uint32_t raw_len, uint32_t record_count, std::string_view compressed,
                       std::string* out);
// `bytes` holds kFrameHeaderBytes starting with kFrameTag (checked by the caller).
FrameHeader DecodeFrameHeader(std::string_view bytes);
// True if the frame header `header_bytes` and its `compressed` bytes match the stored checksum.
bool FrameChecksumMatches(std::string_view header_bytes, std::string_view compressed);

std::string EncodeTrailer(const SnapshotTotals& totals, uint64_t body_checksum);
// `bytes` holds kTrailerBytes starting with kTrailerTag; verifies the trailer's own checksum.
Status DecodeTrailer(std::string_view bytes, SnapshotTotals* totals, uint64_t* body_checksum);

size_t EncodedRecordBytes(const SnapshotRecord& record);
void AppendRecord(const SnapshotRecord& record, std::string* out);
// Decodes the record at `*pos` in a frame's raw bytes and advances `*pos`. kCorruption (message
// without the frame number) if it runs past the end or breaks a field's rule.
Status DecodeRecord(std::string_view raw, size_t* pos, SnapshotRecord* record);

}  // namespace warmcache::storage::snapshot::internal
