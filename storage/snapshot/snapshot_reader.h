// SPDX-License-Identifier: BSD-3-Clause
// SnapshotReader: reads and checks one portable snapshot file (storage/snapshot/FORMAT.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "storage/snapshot/snapshot_format.h"

namespace warmcache::storage::snapshot {

// Reads records in file order, one frame in memory at a time.
// Thread safety: none; one thread uses a reader at a time. Blocks on file I/O.
// Errors: kIoError if the file cannot be opened or read; kCorruption, with a one-line message
// for users ("not a warmcache snapshot file", "frame 3: checksum mismatch", "missing trailer
// (file truncated after frame 40)", ...), for anything that is not an intact snapshot. A frame's
// checksum and every record in it are checked before its first record is returned, so no record
// from a damaged frame ever comes out; records of earlier, intact frames may. Only a Next() that
// returned false (trailer totals and body checksum matched) proves the whole file intact.
class SnapshotReader {
 public:
  // Checks magic, version and the header checksum.
  static Result<std::unique_ptr<SnapshotReader>> Open(const std::string& path);
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // true and fills `record`; false once the trailer has been read and matched; or the error,
  // which every later call returns again.
  Result<bool> Next(SnapshotRecord* record);

  const SnapshotInfo& info() const { return info_; }
  const SnapshotTotals& totals() const { return totals_; }  // read so far
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  SnapshotReader(int fd, uint64_t file_bytes);
  Status ReadHeader();
  Status LoadNextFrame(bool* at_trailer);
  Status LoadFrameBody(std::string_view header_bytes);
  Status DecodeFrameRecords(uint32_t count);
  Status ReadTrailer();
  Status ReadExact(size_t n, std::string* out);
  Status Truncated(const std::string& where) const;
  bool FileEndsWithTrailer();

  int fd_;
  const uint64_t file_bytes_;
  uint64_t offset_ = 0;  // next byte to read
  SnapshotInfo info_;
  SnapshotTotals totals_;
  std::vector<SnapshotRecord> frame_records_;  // the current frame, already checked
  size_t next_in_frame_ = 0;
  std::string compressed_;  // reused buffers
  std::string raw_;
  bool done_ = false;
  Status failed_;
  struct BodyHash;
  std::unique_ptr<BodyHash> body_hash_;
};

}  // namespace warmcache::storage::snapshot
