// SPDX-License-Identifier: BSD-3-Clause
#include "storage/snapshot/snapshot_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "storage/snapshot/snapshot_internal.h"

namespace warmcache::storage::snapshot {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// A rename is durable only once the directory entry is on disk.
Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("cannot fsync directory", dir);
}

Status CheckRecord(const SnapshotRecord& r, const SnapshotInfo& info) {
  if (r.key.empty() || r.key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument("snapshot record key must be 1.." +
                                   std::to_string(kMaxKeyBytes) + " bytes");
  }
  if (r.value.size() > kMaxValueBytes) {
    return Status::InvalidArgument("snapshot record value is over 1 GiB");
  }
  if (r.item_bits > 0x0f) return Status::InvalidArgument("snapshot record item_bits over 15");
  if (r.cas >= info.next_cas) {
    return Status::InvalidArgument("snapshot record cas is not below the header's next_cas");
  }
  return Status::Ok();
}

}  // namespace

struct SnapshotWriter::BodyHash {
  XXH64_state_t* state = XXH64_createState();
  ~BodyHash() { XXH64_freeState(state); }
};

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Open(const std::string& path,
                                                             const SnapshotInfo& info,
                                                             const SnapshotWriterOptions& options) {
  if (info.source.size() > kMaxSourceBytes) {
    return Status::InvalidArgument("snapshot source is over 4096 bytes");
  }
  if (options.frame_bytes == 0 || options.frame_bytes > kMaxFrameBatchBytes) {
    return Status::InvalidArgument("snapshot frame_bytes must be 1..16 MiB");
  }
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  std::unique_ptr<SnapshotWriter> writer(new SnapshotWriter(path, info, options, fd));
  Status s = writer->WriteAll(internal::EncodeHeader(info));
  if (!s.ok()) return writer->Fail(std::move(s));
  return writer;
}

SnapshotWriter::SnapshotWriter(std::string path, SnapshotInfo info, SnapshotWriterOptions options,
                               int fd)
    : path_(std::move(path)),
      info_(std::move(info)),
      options_(options),
      fd_(fd),
      body_hash_(std::make_unique<BodyHash>()) {
  XXH64_reset(body_hash_->state, 0);
}

SnapshotWriter::~SnapshotWriter() {
  if (!finished_) Abort();
}

Status SnapshotWriter::Add(const SnapshotRecord& record) {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::InvalidArgument("snapshot writer already finished");
  WC_RETURN_IF_ERROR(CheckRecord(record, info_));
  const size_t bytes = internal::EncodedRecordBytes(record);
  // Close the batch first if this record would overflow it, so a frame exceeds frame_bytes
  // only when a single record does.
  if (pending_records_ > 0 && pending_.size() + bytes > options_.frame_bytes) {
    WC_RETURN_IF_ERROR(FlushFrame());
  }
  internal::AppendRecord(record, &pending_);
  ++pending_records_;
  ++totals_.records;
  totals_.key_bytes += record.key.size();
  totals_.value_bytes += record.value.size();
  if (pending_.size() >= options_.frame_bytes) WC_RETURN_IF_ERROR(FlushFrame());
  return Status::Ok();
}

Status SnapshotWriter::FlushFrame() {
  if (pending_records_ == 0) return Status::Ok();
  std::string compressed(ZSTD_compressBound(pending_.size()), '\0');
  const size_t n = ZSTD_compress(compressed.data(), compressed.size(), pending_.data(),
                                 pending_.size(), options_.compression_level);
  if (ZSTD_isError(n)) {
    return Fail(Status::IoError(std::string("zstd compression failed: ") + ZSTD_getErrorName(n)));
  }
  compressed.resize(n);
  frame_.clear();
  internal::AppendFrameHeader(static_cast<uint32_t>(pending_.size()), pending_records_, compressed,
                              &frame_);
  frame_ += compressed;
  XXH64_update(body_hash_->state, frame_.data(), frame_.size());
  WC_RETURN_IF_ERROR(WriteAll(frame_));
  ++totals_.frames;
  pending_.clear();
  pending_records_ = 0;
  return Status::Ok();
}

Status SnapshotWriter::Finish() {
  if (!failed_.ok()) return failed_;
  if (finished_) return Status::Ok();
  WC_RETURN_IF_ERROR(FlushFrame());
  WC_RETURN_IF_ERROR(WriteAll(internal::EncodeTrailer(totals_, XXH64_digest(body_hash_->state))));
  const std::string tmp = tmp_path();
  if (::fsync(fd_) != 0) return Fail(Errno("cannot fsync", tmp));
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return Fail(Errno("cannot close", tmp));
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return Fail(Errno("cannot rename", tmp));
  finished_ = true;
  // The file is complete under its name; a failed directory sync only weakens durability.
  return SyncDir(DirOf(path_));
}

void SnapshotWriter::Abort() {
  if (finished_) return;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  ::unlink(tmp_path().c_str());
}

Status SnapshotWriter::WriteAll(const std::string& bytes) {
  if (!failed_.ok()) return failed_;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(Errno("cannot write", tmp_path()));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status SnapshotWriter::Fail(Status status) {
  failed_ = status;
  Abort();
  return status;
}

}  // namespace warmcache::storage::snapshot
