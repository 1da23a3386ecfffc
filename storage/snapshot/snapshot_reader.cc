// SPDX-License-Identifier: BSD-3-Clause
#include "storage/snapshot/snapshot_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "storage/snapshot/snapshot_internal.h"

namespace warmcache::storage::snapshot {

namespace {

using std::to_string;

std::string_view View(const char* bytes, size_t n) { return std::string_view(bytes, n); }

Status Mismatch(const char* what, uint64_t promised, uint64_t read) {
  return Status::Corruption("trailer says " + to_string(promised) + " " + what + ", read " +
                            to_string(read));
}

}  // namespace

struct SnapshotReader::BodyHash {
  XXH64_state_t* state = XXH64_createState();
  ~BodyHash() { XXH64_freeState(state); }
};

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang; it has no effect on regular files.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::IoError(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    return Status::Corruption(dir ? "is a directory, not a warmcache snapshot file"
                                  : "not a regular file, not a warmcache snapshot file");
  }
  std::unique_ptr<SnapshotReader> reader(new SnapshotReader(fd, static_cast<uint64_t>(st.st_size)));
  WC_RETURN_IF_ERROR(reader->ReadHeader());
  return reader;
}

SnapshotReader::SnapshotReader(int fd, uint64_t file_bytes)
    : fd_(fd), file_bytes_(file_bytes), body_hash_(std::make_unique<BodyHash>()) {
  XXH64_reset(body_hash_->state, 0);
}

SnapshotReader::~SnapshotReader() { ::close(fd_); }

Status SnapshotReader::ReadHeader() {
  if (file_bytes_ == 0) return Status::Corruption("empty file, not a warmcache snapshot file");
  const std::string_view magic = View(kFileMagic, sizeof(kFileMagic));
  std::string fixed;
  if (file_bytes_ < kHeaderFixedBytes) {
    // A short file is a cut-off snapshot if it starts like one, and foreign otherwise.
    WC_RETURN_IF_ERROR(ReadExact(file_bytes_, &fixed));
    const size_t n = std::min(fixed.size(), magic.size());
    if (std::string_view(fixed).substr(0, n) != magic.substr(0, n)) {
      return Status::Corruption("not a warmcache snapshot file");
    }
    return Truncated("the header");
  }
  WC_RETURN_IF_ERROR(ReadExact(kHeaderFixedBytes, &fixed));
  Result<size_t> source_len = internal::CheckHeaderStart(fixed);
  if (!source_len.ok()) return source_len.status();
  const size_t header_bytes = internal::HeaderBytes(*source_len);
  if (file_bytes_ < header_bytes) return Truncated("the header");
  std::string rest;
  WC_RETURN_IF_ERROR(ReadExact(header_bytes - kHeaderFixedBytes, &rest));
  Result<SnapshotInfo> info = internal::DecodeHeader(fixed + rest);
  if (!info.ok()) return info.status();
  info_ = std::move(info).value();
  return Status::Ok();
}

Result<bool> SnapshotReader::Next(SnapshotRecord* record) {
  if (!failed_.ok()) return failed_;
  while (next_in_frame_ == frame_records_.size()) {
    if (done_) return false;
    bool at_trailer = false;
    Status s = LoadNextFrame(&at_trailer);
    if (!s.ok()) {
      failed_ = s;
      return s;
    }
    if (at_trailer) {
      done_ = true;
      return false;
    }
  }
  *record = std::move(frame_records_[next_in_frame_++]);
  return true;
}

Status SnapshotReader::LoadNextFrame(bool* at_trailer) {
  frame_records_.clear();
  next_in_frame_ = 0;
  const uint64_t left = file_bytes_ - offset_;
  const std::string frame = "frame " + to_string(totals_.frames + 1);
  if (left == 0) {
    return Status::Corruption("missing trailer (file truncated after frame " +
                              to_string(totals_.frames) + ")");
  }
  std::string tag;
  WC_RETURN_IF_ERROR(ReadExact(left < sizeof(kFrameTag) ? left : sizeof(kFrameTag), &tag));
  if (tag == View(kTrailerTag, sizeof(kTrailerTag))) {
    *at_trailer = true;
    return ReadTrailer();
  }
  if (tag.size() < sizeof(kFrameTag)) return Truncated(frame);
  if (tag != View(kFrameTag, sizeof(kFrameTag))) {
    return Status::Corruption(frame + ": bad frame marker at byte " + to_string(offset_ - 4));
  }
  if (left < kFrameHeaderBytes) return Truncated(frame);
  std::string header_bytes;
  WC_RETURN_IF_ERROR(ReadExact(kFrameHeaderBytes - sizeof(kFrameTag), &header_bytes));
  return LoadFrameBody(tag + header_bytes);
}

Status SnapshotReader::LoadFrameBody(std::string_view header_bytes) {
  const std::string frame = "frame " + to_string(totals_.frames + 1);
  const internal::FrameHeader h = internal::DecodeFrameHeader(header_bytes);
  // Bound every allocation before trusting the lengths: the compressed bytes must be in the
  // file, and the raw size within what any writer produces.
  if (h.compressed_len > file_bytes_ - offset_) {
    if (!FileEndsWithTrailer()) return Truncated(frame);
    return Status::Corruption(frame + ": length runs past the end of the file");
  }
  if (h.raw_len > kMaxFrameRawBytes || h.record_count == 0) {
    return Status::Corruption(frame + ": bad frame header");
  }
  WC_RETURN_IF_ERROR(ReadExact(h.compressed_len, &compressed_));
  if (!internal::FrameChecksumMatches(header_bytes, compressed_)) {
    return Status::Corruption(frame + ": checksum mismatch");
  }
  XXH64_update(body_hash_->state, header_bytes.data(), header_bytes.size());
  XXH64_update(body_hash_->state, compressed_.data(), compressed_.size());
  if (ZSTD_getFrameContentSize(compressed_.data(), compressed_.size()) != h.raw_len) {
    return Status::Corruption(frame + ": compressed block does not match its length");
  }
  raw_.resize(h.raw_len);
  const size_t n =
      ZSTD_decompress(raw_.data(), raw_.size(), compressed_.data(), compressed_.size());
  if (ZSTD_isError(n) || n != h.raw_len) {
    return Status::Corruption(frame + ": cannot decompress");
  }
  Status s = DecodeFrameRecords(h.record_count);
  if (!s.ok()) return Status::Corruption(frame + ": " + s.message());
  ++totals_.frames;
  return Status::Ok();
}

Status SnapshotReader::DecodeFrameRecords(uint32_t count) {
  size_t pos = 0;
  for (uint32_t i = 0; i < count; ++i) {
    SnapshotRecord record;
    WC_RETURN_IF_ERROR(internal::DecodeRecord(raw_, &pos, &record));
    if (record.cas >= info_.next_cas) {
      return Status::Corruption("record cas is not below the header's next CAS");
    }
    totals_.key_bytes += record.key.size();
    totals_.value_bytes += record.value.size();
    frame_records_.push_back(std::move(record));
  }
  if (pos != raw_.size()) return Status::Corruption("bytes left after its last record");
  totals_.records += count;
  return Status::Ok();
}

Status SnapshotReader::ReadTrailer() {
  if (file_bytes_ - offset_ < kTrailerBytes - sizeof(kTrailerTag)) return Truncated("the trailer");
  std::string rest;
  WC_RETURN_IF_ERROR(ReadExact(kTrailerBytes - sizeof(kTrailerTag), &rest));
  SnapshotTotals promised;
  uint64_t body_checksum = 0;
  WC_RETURN_IF_ERROR(internal::DecodeTrailer(std::string(kTrailerTag, sizeof(kTrailerTag)) + rest,
                                             &promised, &body_checksum));
  if (promised.frames != totals_.frames) return Mismatch("frames", promised.frames, totals_.frames);
  if (promised.records != totals_.records) {
    return Mismatch("records", promised.records, totals_.records);
  }
  if (promised.key_bytes != totals_.key_bytes) {
    return Mismatch("key bytes", promised.key_bytes, totals_.key_bytes);
  }
  if (promised.value_bytes != totals_.value_bytes) {
    return Mismatch("value bytes", promised.value_bytes, totals_.value_bytes);
  }
  if (body_checksum != XXH64_digest(body_hash_->state)) {
    return Status::Corruption("trailer: body checksum mismatch");
  }
  if (offset_ != file_bytes_) {
    return Status::Corruption(to_string(file_bytes_ - offset_) +
                              " unexpected bytes after the trailer");
  }
  return Status::Ok();
}

Status SnapshotReader::ReadExact(size_t n, std::string* out) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, out->data() + done, n - done, static_cast<off_t>(offset_));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::IoError(std::string("cannot read: ") + std::strerror(errno));
    // The file shrank since Open(): someone is truncating it under us.
    if (got == 0) return Status::Corruption("truncated: the file shrank while being read");
    done += static_cast<size_t>(got);
    offset_ += static_cast<uint64_t>(got);
  }
  return Status::Ok();
}

Status SnapshotReader::Truncated(const std::string& where) const {
  return Status::Corruption("truncated: ends inside " + where + " at byte " +
                            to_string(file_bytes_));
}

// Tells a cut-off file from a damaged length: an intact file still ends in a valid trailer.
bool SnapshotReader::FileEndsWithTrailer() {
  if (file_bytes_ < kTrailerBytes) return false;
  std::string tail(kTrailerBytes, '\0');
  const off_t at = static_cast<off_t>(file_bytes_ - kTrailerBytes);
  if (::pread(fd_, tail.data(), tail.size(), at) != static_cast<ssize_t>(tail.size())) return false;
  SnapshotTotals totals;
  uint64_t body_checksum = 0;
  return tail.compare(0, sizeof(kTrailerTag), kTrailerTag, sizeof(kTrailerTag)) == 0 &&
         internal::DecodeTrailer(tail, &totals, &body_checksum).ok();
}

}  // namespace warmcache::storage::snapshot
