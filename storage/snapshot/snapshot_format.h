// SPDX-License-Identifier: BSD-3-Clause
// The portable snapshot file (issue #5): what one cached item and the file header hold, and the
// constants of the byte layout. The layout itself is documented in storage/snapshot/FORMAT.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace warmcache::storage::snapshot {

// One cached item as the file stores it. The value is always raw bytes, never a warm-tier
// record: a snapshot must not depend on one database's zstd dictionary.
struct SnapshotRecord {
  std::string key;  // 1..kMaxKeyBytes arbitrary bytes (memcached keys are 1..250)
  uint32_t client_flags = 0;
  uint32_t exptime = 0;   // absolute unix seconds, 0 = never expires
  uint64_t cas = 0;       // below SnapshotInfo::next_cas
  uint32_t time = 0;      // last store or access, unix seconds (flush_all's rule, LRU age)
  uint8_t item_bits = 0;  // the high-nibble bits of storage/rocks/FORMAT.md (0..15)
  std::string value;      // up to kMaxValueBytes

  bool operator==(const SnapshotRecord&) const = default;
};

// The file header: where and when the snapshot was taken, and the cache-wide state a restore
// needs besides the items.
struct SnapshotInfo {
  uint32_t format_version = 0;    // filled in by the reader; the writer always writes the current
  int64_t created_unix = 0;       // unix seconds
  std::string source;             // e.g. "127.0.0.1:11211" or a data dir; up to kMaxSourceBytes
  uint64_t next_cas = 0;          // every CAS in the file is below it
  int64_t flush_oldest_live = 0;  // storage::FlushState at snapshot time; 0 = no flush
  uint64_t flush_oldest_cas = 0;

  bool operator==(const SnapshotInfo&) const = default;
};

// What the trailer promises (and the reader checks): totals over every frame.
struct SnapshotTotals {
  uint64_t frames = 0;
  uint64_t records = 0;
  uint64_t key_bytes = 0;
  uint64_t value_bytes = 0;

  bool operator==(const SnapshotTotals&) const = default;
};

// Format constants. Readers refuse versions above kFormatVersion (kCorruption).
inline constexpr uint32_t kFormatVersion = 1;
// PNG-style: a high-bit byte (7-bit transfers), CR LF and LF (line-ending conversion), ^Z.
inline constexpr char kFileMagic[8] = {'\x89', 'W', 'C', 'S', 'N', '\r', '\n', '\x1a'};
inline constexpr char kFrameTag[4] = {'W', 'C', 'F', 'R'};
inline constexpr char kTrailerTag[4] = {'W', 'C', 'T', 'R'};

inline constexpr size_t kHeaderFixedBytes = 46;  // magic .. source length
inline constexpr size_t kFrameHeaderBytes = 24;
inline constexpr size_t kTrailerBytes = 56;
inline constexpr size_t kRecordHeaderBytes = 27;

inline constexpr size_t kMaxSourceBytes = 4096;
inline constexpr size_t kMaxKeyBytes = 65535;
// memcached's ceiling for -I (item size) is 1 GiB.
inline constexpr size_t kMaxValueBytes = size_t{1} << 30;
// Records are batched until a frame holds this many raw bytes (one larger record makes a frame
// of its own). Writers may choose up to kMaxFrameBatchBytes.
inline constexpr size_t kDefaultFrameBytes = size_t{1} << 20;
inline constexpr size_t kMaxFrameBatchBytes = size_t{16} << 20;
// The reader's bound on one frame's raw size: a full batch or one largest record. A length
// above it is corruption, so a damaged length field never allocates more than this.
inline constexpr size_t kMaxFrameRawBytes =
    kMaxValueBytes + kMaxKeyBytes + kRecordHeaderBytes + kMaxFrameBatchBytes;

}  // namespace warmcache::storage::snapshot
