// SPDX-License-Identifier: BSD-3-Clause
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storage/snapshot/snapshot_format.h"
#include "storage/snapshot/snapshot_internal.h"
#include "storage/snapshot/snapshot_reader.h"
#include "storage/snapshot/snapshot_writer.h"
#include "tests/testutil/temp_dir.h"

namespace warmcache::storage::snapshot {
namespace {

SnapshotInfo Info() {
  SnapshotInfo info;
  info.created_unix = 1'700'000'123;
  info.source = "127.0.0.1:11211";
  info.next_cas = 1'000'000'000;
  info.flush_oldest_live = 1'699'999'000;
  info.flush_oldest_cas = 77;
  return info;
}

std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  // Half random, half repetitive: compressible like real values, not trivially.
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 2 ? rng() : i % 7);
  return s;
}

SnapshotRecord Record(uint32_t i, size_t value_len) {
  SnapshotRecord r;
  r.key = "key:" + std::to_string(i);
  if (i % 3 == 0) r.key += std::string("\0\r\n\xff", 4);  // keys are arbitrary bytes
  r.client_flags = i * 7;
  r.exptime = i % 4 == 0 ? 0 : 1'700'000'000 + i;
  r.cas = i + 1;
  r.time = 1'690'000'000 + i;
  r.item_bits = static_cast<uint8_t>(i % 16);
  r.value = Bytes(value_len, i);
  if (value_len >= 2) r.value.replace(0, 2, "\r\n");
  return r;
}

std::string ReadFile(const std::string& path) { return testutil::ReadFileOrEmpty(path); }

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class SnapshotFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testutil::TempDir::Create("wc_snapshot_test_");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(dir).value();
    path_ = dir_->File("cache.wcsnap");
  }

  SnapshotTotals Write(const std::vector<SnapshotRecord>& records,
                       const SnapshotWriterOptions& options = {}) {
    auto writer = SnapshotWriter::Open(path_, Info(), options);
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return {};
    for (const SnapshotRecord& r : records) EXPECT_TRUE((*writer)->Add(r).ok());
    EXPECT_TRUE((*writer)->Finish().ok());
    return (*writer)->totals();
  }

  // Reads `path` to the end. Records read before an error stay in `records_`.
  Status ReadAll(const std::string& path) {
    records_.clear();
    auto reader = SnapshotReader::Open(path);
    if (!reader.ok()) return reader.status();
    info_ = (*reader)->info();
    SnapshotRecord r;
    for (;;) {
      Result<bool> more = (*reader)->Next(&r);
      if (!more.ok()) return more.status();
      if (!*more) break;
      records_.push_back(r);
    }
    totals_ = (*reader)->totals();
    return Status::Ok();
  }

  // A small file of several frames, for the damage loops.
  std::string SmallFile(std::vector<SnapshotRecord>* records) {
    for (uint32_t i = 0; i < 12; ++i) records->push_back(Record(i, i * 5));
    SnapshotWriterOptions options;
    options.frame_bytes = 120;
    EXPECT_GE(Write(*records, options).frames, 4u);
    return ReadFile(path_);
  }

  // The read failed with kCorruption, and every record it returned is the writer's.
  void ExpectCorruptPrefix(const Status& s, const std::vector<SnapshotRecord>& written,
                           const std::string& what) {
    EXPECT_EQ(StatusCode::kCorruption, s.code()) << what << ": " << s.ToString();
    ASSERT_LE(records_.size(), written.size()) << what;
    for (size_t i = 0; i < records_.size(); ++i) EXPECT_EQ(written[i], records_[i]) << what;
  }

  std::unique_ptr<testutil::TempDir> dir_;
  std::string path_;
  SnapshotInfo info_;
  SnapshotTotals totals_;
  std::vector<SnapshotRecord> records_;
};

TEST_F(SnapshotFileTest, RoundTripsZeroRecords) {
  EXPECT_EQ(0u, Write({}).records);
  ASSERT_TRUE(ReadAll(path_).ok());
  SnapshotInfo expected = Info();
  expected.format_version = kFormatVersion;
  EXPECT_EQ(expected, info_);
  EXPECT_TRUE(records_.empty());
  EXPECT_EQ(SnapshotTotals{}, totals_);
}

TEST_F(SnapshotFileTest, RoundTripsOneRecord) {
  const SnapshotRecord r = Record(3, 10);
  Write({r});
  ASSERT_TRUE(ReadAll(path_).ok());
  ASSERT_EQ(1u, records_.size());
  EXPECT_EQ(r, records_[0]);
  EXPECT_EQ((SnapshotTotals{1, 1, r.key.size(), r.value.size()}), totals_);
}

TEST_F(SnapshotFileTest, RoundTrips50kRecordsOfMixedSizes) {
  const size_t sizes[] = {0, 1, 100};
  std::vector<SnapshotRecord> records;
  for (uint32_t i = 0; i < 50'000; ++i) {
    size_t len = sizes[i % 3];
    if (i % 5'000 == 1) len = 1 << 20;
    if (i % 1'000 == 2) len = 64 << 10;
    records.push_back(Record(i, len));
  }
  const SnapshotTotals written = Write(records);
  ASSERT_TRUE(ReadAll(path_).ok());
  ASSERT_EQ(records.size(), records_.size());
  for (size_t i = 0; i < records.size(); ++i) ASSERT_EQ(records[i], records_[i]) << i;
  EXPECT_EQ(written, totals_);
  EXPECT_EQ(50'000u, totals_.records);
  EXPECT_GT(totals_.frames, 10u);  // ten 1 MiB values, each in a frame of its own at least
}

// Walks the frame headers of a file: the record count of each frame.
std::vector<uint32_t> FrameCounts(const std::string& file) {
  std::vector<uint32_t> counts;
  size_t at = internal::HeaderBytes(Info().source.size());
  while (file.compare(at, 4, kFrameTag, 4) == 0) {
    const internal::FrameHeader h = internal::DecodeFrameHeader(file.substr(at, kFrameHeaderBytes));
    counts.push_back(h.record_count);
    at += kFrameHeaderBytes + h.compressed_len;
  }
  EXPECT_EQ(file.size(), at + kTrailerBytes);
  return counts;
}

TEST_F(SnapshotFileTest, SplitsFramesAtTheFrameSize) {
  // Records of exactly 100 KiB encoded: ten fit in a 1 MiB frame, the eleventh would not.
  std::vector<SnapshotRecord> records;
  for (uint32_t i = 0; i < 25; ++i) {
    SnapshotRecord r = Record(i, 0);
    r.key = "k" + std::to_string(100 + i);  // 4 bytes
    r.value = Bytes(100 * 1024 - kRecordHeaderBytes - 4, i);
    records.push_back(r);
  }
  records.push_back(Record(90, 1 << 20));  // larger than a frame: one of its own
  records.push_back(Record(91, 10));
  EXPECT_EQ(5u, Write(records).frames);
  EXPECT_EQ((std::vector<uint32_t>{10, 10, 5, 1, 1}), FrameCounts(ReadFile(path_)));
  ASSERT_TRUE(ReadAll(path_).ok());
  EXPECT_EQ(records, records_);
  EXPECT_EQ(5u, totals_.frames);
}

TEST_F(SnapshotFileTest, TruncationAtEveryByteIsReported) {
  std::vector<SnapshotRecord> written;
  const std::string file = SmallFile(&written);
  const std::string cut_path = dir_->File("cut.wcsnap");
  for (size_t cut = 0; cut < file.size(); ++cut) {
    WriteFile(cut_path, file.substr(0, cut));
    ExpectCorruptPrefix(ReadAll(cut_path), written, "cut=" + std::to_string(cut));
  }
}

TEST_F(SnapshotFileTest, TruncationMessagesSayWhere) {
  std::vector<SnapshotRecord> written;
  const std::string file = SmallFile(&written);
  const size_t header = internal::HeaderBytes(Info().source.size());
  const std::string cut_path = dir_->File("cut.wcsnap");
  auto message_at = [&](size_t cut) {
    WriteFile(cut_path, file.substr(0, cut));
    return ReadAll(cut_path).message();
  };
  EXPECT_EQ("empty file, not a warmcache snapshot file", message_at(0));
  EXPECT_EQ("truncated: ends inside the header at byte 20", message_at(20));
  EXPECT_EQ("missing trailer (file truncated after frame 0)", message_at(header));
  EXPECT_EQ("truncated: ends inside frame 1 at byte " + std::to_string(header + 30),
            message_at(header + 30));
  const size_t frames = FrameCounts(file).size();
  EXPECT_EQ("missing trailer (file truncated after frame " + std::to_string(frames) + ")",
            message_at(file.size() - kTrailerBytes));
  EXPECT_EQ("truncated: ends inside the trailer at byte " + std::to_string(file.size() - 1),
            message_at(file.size() - 1));
}

TEST_F(SnapshotFileTest, AFlippedBitInEveryByteIsReported) {
  std::vector<SnapshotRecord> written;
  const std::string file = SmallFile(&written);
  const std::string bad_path = dir_->File("bad.wcsnap");
  // One bit per byte, rotating through the bit positions: every field is hit, and the test
  // stays within the unit budget (each case writes and reads a file).
  for (size_t byte = 0; byte < file.size(); ++byte) {
    const int bit = static_cast<int>(byte % 8);
    std::string bad = file;
    bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
    WriteFile(bad_path, bad);
    ExpectCorruptPrefix(ReadAll(bad_path), written,
                        "byte=" + std::to_string(byte) + " bit=" + std::to_string(bit));
  }
}

TEST_F(SnapshotFileTest, FlippedBitMessagesNameThePart) {
  std::vector<SnapshotRecord> written;
  const std::string file = SmallFile(&written);
  const size_t header = internal::HeaderBytes(Info().source.size());
  auto message_after_flip = [&](size_t byte) {
    std::string bad = file;
    bad[byte] = static_cast<char>(bad[byte] ^ 0x10);
    WriteFile(path_, bad);
    return ReadAll(path_).message();
  };
  EXPECT_EQ("not a warmcache snapshot file", message_after_flip(1));
  EXPECT_EQ("header: checksum mismatch", message_after_flip(20));  // next_cas
  EXPECT_EQ("frame 1: checksum mismatch", message_after_flip(header + 30));
  EXPECT_EQ("frame 1: checksum mismatch", message_after_flip(header + 12));  // record count
  EXPECT_EQ("trailer: checksum mismatch", message_after_flip(file.size() - 30));
}

TEST_F(SnapshotFileTest, ForeignFilesAreRejected) {
  const std::string foreign = dir_->File("foreign");
  WriteFile(foreign, Bytes(4096, 1));
  EXPECT_EQ("not a warmcache snapshot file", ReadAll(foreign).message());
  WriteFile(foreign, "hello\n");
  EXPECT_EQ("not a warmcache snapshot file", ReadAll(foreign).message());
  WriteFile(foreign, "");
  EXPECT_EQ(StatusCode::kCorruption, ReadAll(foreign).code());
  EXPECT_EQ(StatusCode::kCorruption, ReadAll(dir_->path()).code());
  EXPECT_EQ("is a directory, not a warmcache snapshot file", ReadAll(dir_->path()).message());
  EXPECT_EQ(StatusCode::kIoError, ReadAll(dir_->File("missing")).code());
}

TEST_F(SnapshotFileTest, NewerVersionIsRejected) {
  Write({Record(1, 1)});
  std::string file = ReadFile(path_);
  file[8] = 7;  // the version field, little-endian
  WriteFile(path_, file);
  EXPECT_EQ("snapshot format version 7 is newer than this build reads (1)",
            ReadAll(path_).message());
}

TEST_F(SnapshotFileTest, TrailerTotalsMustMatch) {
  Write({Record(1, 1), Record(2, 2)});
  std::string file = ReadFile(path_);
  SnapshotTotals totals;
  uint64_t body_checksum = 0;
  ASSERT_TRUE(
      internal::DecodeTrailer(file.substr(file.size() - kTrailerBytes), &totals, &body_checksum)
          .ok());
  totals.records = 3;
  file.replace(file.size() - kTrailerBytes, kTrailerBytes,
               internal::EncodeTrailer(totals, body_checksum));
  WriteFile(path_, file);
  EXPECT_EQ("trailer says 3 records, read 2", ReadAll(path_).message());
  EXPECT_EQ(2u, records_.size());  // intact frames before the trailer were returned
}

TEST_F(SnapshotFileTest, BytesAfterTheTrailerAreRejected) {
  Write({Record(1, 1)});
  WriteFile(path_, ReadFile(path_) + "x");
  EXPECT_EQ("1 unexpected bytes after the trailer", ReadAll(path_).message());
}

TEST_F(SnapshotFileTest, ErrorsAreSticky) {
  std::vector<SnapshotRecord> written;
  const std::string file = SmallFile(&written);
  WriteFile(path_, file.substr(0, file.size() - 5));
  auto reader = SnapshotReader::Open(path_);
  ASSERT_TRUE(reader.ok());
  SnapshotRecord r;
  Result<bool> more = true;
  while (more.ok() && *more) more = (*reader)->Next(&r);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().message(), (*reader)->Next(&r).status().message());
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

TEST_F(SnapshotFileTest, FinishRenamesTheTmpFile) {
  auto writer = SnapshotWriter::Open(path_, Info());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Add(Record(1, 1)).ok());
  EXPECT_TRUE(Exists(path_ + ".tmp"));
  EXPECT_FALSE(Exists(path_));
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_FALSE(Exists(path_ + ".tmp"));
  EXPECT_TRUE(Exists(path_));
}

TEST_F(SnapshotFileTest, AbandonedWriterLeavesTheOldFileAndNoTmp) {
  WriteFile(path_, "previous snapshot");
  {
    auto writer = SnapshotWriter::Open(path_, Info());
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Add(Record(1, 100)).ok());
  }
  EXPECT_FALSE(Exists(path_ + ".tmp"));
  EXPECT_EQ("previous snapshot", ReadFile(path_));

  auto writer = SnapshotWriter::Open(dir_->File("other"), Info());
  ASSERT_TRUE(writer.ok());
  (*writer)->Abort();
  EXPECT_FALSE(Exists(dir_->File("other.tmp")));
  EXPECT_FALSE(Exists(dir_->File("other")));
}

TEST_F(SnapshotFileTest, WriterRejectsWhatTheFormatCannotHold) {
  auto writer = SnapshotWriter::Open(path_, Info());
  ASSERT_TRUE(writer.ok());
  SnapshotRecord r = Record(1, 1);
  r.key.clear();
  EXPECT_EQ(StatusCode::kInvalidArgument, (*writer)->Add(r).code());
  r = Record(1, 1);
  r.cas = Info().next_cas;
  EXPECT_EQ(StatusCode::kInvalidArgument, (*writer)->Add(r).code());
  r = Record(1, 1);
  r.item_bits = 16;
  EXPECT_EQ(StatusCode::kInvalidArgument, (*writer)->Add(r).code());
  ASSERT_TRUE((*writer)->Add(Record(2, 2)).ok());  // still usable
  ASSERT_TRUE((*writer)->Finish().ok());
  ASSERT_TRUE(ReadAll(path_).ok());
  EXPECT_EQ(1u, records_.size());

  EXPECT_EQ(StatusCode::kIoError,
            SnapshotWriter::Open(dir_->File("no/such/dir"), Info()).status().code());
  SnapshotInfo long_source = Info();
  long_source.source.assign(kMaxSourceBytes + 1, 's');
  EXPECT_EQ(StatusCode::kInvalidArgument, SnapshotWriter::Open(path_, long_source).status().code());
}

}  // namespace
}  // namespace warmcache::storage::snapshot
