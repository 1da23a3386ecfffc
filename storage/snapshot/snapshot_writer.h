// SPDX-License-Identifier: BSD-3-Clause
// SnapshotWriter: writes one portable snapshot file (storage/snapshot/FORMAT.md).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "server/common/status.h"
#include "storage/snapshot/snapshot_format.h"

namespace warmcache::storage::snapshot {

struct SnapshotWriterOptions {
  int compression_level = 3;                // zstd level for every frame
  size_t frame_bytes = kDefaultFrameBytes;  // raw bytes batched per frame, 1..kMaxFrameBatchBytes
};

// Writes to `path + ".tmp"`; Finish() adds the trailer, fsyncs and renames it to `path`, so a
// crash or an error never leaves a partial file under the final name.
// Thread safety: none; one thread uses a writer at a time. Blocks on file I/O.
// Errors: kInvalidArgument for a record or info the format cannot hold (the writer stays
// usable); kIoError for a failed write, after which every call returns that error and the tmp
// file is removed when the writer is aborted or destroyed.
class SnapshotWriter {
 public:
  static Result<std::unique_ptr<SnapshotWriter>> Open(const std::string& path,
                                                      const SnapshotInfo& info,
                                                      const SnapshotWriterOptions& options = {});
  // Abort()s unless Finish() succeeded.
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends one item. kInvalidArgument if the key is empty or over kMaxKeyBytes, the value is
  // over kMaxValueBytes, item_bits is over 15, or cas is not below info.next_cas.
  Status Add(const SnapshotRecord& record);
  // Writes the last frame and the trailer, fsyncs, renames to the final path, fsyncs the
  // directory. If writing, fsync or rename fails, the tmp file is removed and `path` is left as
  // it was; if only the directory fsync fails, the file is in place and kIoError says it may
  // not survive a crash.
  Status Finish();
  // Closes and removes the tmp file; `path` is left as it was. Idempotent.
  void Abort();

  const SnapshotTotals& totals() const { return totals_; }  // written so far
  const std::string& path() const { return path_; }
  std::string tmp_path() const { return path_ + ".tmp"; }

 private:
  SnapshotWriter(std::string path, SnapshotInfo info, SnapshotWriterOptions options, int fd);
  Status FlushFrame();
  Status WriteAll(const std::string& bytes);
  Status Fail(Status status);

  const std::string path_;
  const SnapshotInfo info_;
  const SnapshotWriterOptions options_;
  int fd_;  // the tmp file; -1 once closed
  bool finished_ = false;
  Status failed_;        // sticky I/O error
  std::string pending_;  // raw records of the frame being built
  uint32_t pending_records_ = 0;
  std::string frame_;  // reused output buffer: frame header + compressed bytes
  SnapshotTotals totals_;
  struct BodyHash;
  std::unique_ptr<BodyHash> body_hash_;  // XXH64 over every frame byte (the trailer's checksum)
};

}  // namespace warmcache::storage::snapshot
