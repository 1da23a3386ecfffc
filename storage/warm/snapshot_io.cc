// SPDX-License-Identifier: BSD-3-Clause
#include "storage/warm/snapshot_io.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "server/common/clock.h"
#include "storage/flush_state.h"
#include "storage/snapshot/snapshot_reader.h"
#include "storage/snapshot/snapshot_writer.h"
#include "storage/warm/warm_state.h"
#include "storage/warm/warm_tier.h"

namespace warmcache::storage::warm {

namespace {

constexpr size_t kRestoreBatch = 512;
constexpr auto kProgressEvery = std::chrono::milliseconds(500);

// The flush_all state a snapshot carries, as the rule every tier applies.
void SetFlushOf(const snapshot::SnapshotInfo& info, FlushState* flush) {
  flush->Set(info.flush_oldest_live, info.flush_oldest_cas);
}

bool IsDead(const snapshot::SnapshotRecord& r, const FlushState& flush, int64_t now) {
  return IsExpired(r.exptime, now) || flush.IsFlushed(r.time, r.cas, now);
}

// Reads the whole file once: every checksum, the trailer. Returns the record count.
Result<uint64_t> VerifyFile(const std::string& path) {
  Result<std::unique_ptr<snapshot::SnapshotReader>> reader = snapshot::SnapshotReader::Open(path);
  if (!reader.ok()) return reader.status();
  snapshot::SnapshotRecord record;
  uint64_t records = 0;
  while (true) {
    Result<bool> more = (*reader)->Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) return records;
    ++records;
  }
}

Status Refuse(const std::string& data_dir, rocks::KvStore* kv, bool replace) {
  const bool has_data = kv->HasAnyKey() || kv->GetMeta("format").ok();
  if (!has_data) return Status::Ok();
  if (!replace) {
    return Status::InvalidArgument("data directory " + data_dir +
                                   " already holds a cache (--force replaces it)");
  }
  std::error_code ec;
  std::filesystem::remove(data_dir + "/warmcache.zdict", ec);  // describes the old records
  return kv->DiscardAll();
}

}  // namespace

Result<ExportStats> ExportDatabase(rocks::KvStore* kv, const rocks::RecordCodec& codec,
                                   const snapshot::SnapshotInfo& info, int64_t now,
                                   const std::string& path) {
  Result<std::unique_ptr<snapshot::SnapshotWriter>> writer =
      snapshot::SnapshotWriter::Open(path, info);
  if (!writer.ok()) return writer.status();
  FlushState flush;
  SetFlushOf(info, &flush);
  ExportStats stats;
  Status failed;
  snapshot::SnapshotRecord record;
  rocks::RecordMeta meta;
  const Status scanned = kv->ForEachRecord([&](std::string_view key, std::string_view bytes) {
    if (!codec.Decode(bytes, &meta, &record.value).ok()) {
      ++stats.unreadable;
      return true;
    }
    record.key.assign(key);
    record.client_flags = meta.client_flags;
    record.exptime = meta.exptime;
    record.cas = meta.cas;
    record.time = meta.time;
    record.item_bits = meta.item_bits;
    if (IsDead(record, flush, now)) {
      ++stats.skipped_dead;
      return true;
    }
    failed = (*writer)->Add(record);
    if (!failed.ok()) return false;
    ++stats.records;
    stats.value_bytes += record.value.size();
    return true;
  });
  if (!scanned.ok()) return scanned;
  if (!failed.ok()) return failed;
  WC_RETURN_IF_ERROR((*writer)->Finish());
  return stats;
}

Result<ExportStats> ExportDataDir(const std::string& data_dir, const std::string& path,
                                  int64_t now) {
  if (!std::filesystem::exists(data_dir + "/CURRENT")) {
    return Status::InvalidArgument("data directory " + data_dir + " holds no warm tier");
  }
  rocks::KvOptions kv_options;
  kv_options.path = data_dir;
  kv_options.disable_compactions = true;  // read as it is: no file may be dropped or rewritten
  FlushState flush;
  Result<std::unique_ptr<rocks::KvStore>> kv =
      rocks::KvStore::Open(kv_options, SystemClock::Get(), &flush);
  if (!kv.ok())
    return Status(kv.status().code(), "data directory " + data_dir + ": " + kv.status().message());
  RestoredState state;
  const Status clean = ReadCleanState(kv->get(), &state);
  if (!clean.ok())
    return Status(clean.code(), "data directory " + data_dir + ": " + clean.message());
  rocks::RecordCodec codec{rocks::CodecOptions{}};
  Result<std::unique_ptr<rocks::Dictionary>> dictionary =
      rocks::Dictionary::FromFile(data_dir + "/warmcache.zdict", codec.options().level);
  if (dictionary.ok()) {
    codec.SetDictionary(std::move(dictionary).value());
  } else if (dictionary.status().code() != StatusCode::kNotFound) {
    return dictionary.status();
  }
  const snapshot::SnapshotInfo info{.format_version = snapshot::kFormatVersion,
                                    .created_unix = now,
                                    .source = data_dir,
                                    .next_cas = state.next_cas + 1,
                                    .flush_oldest_live = state.flush_oldest_live,
                                    .flush_oldest_cas = state.flush_oldest_cas};
  return ExportDatabase(kv->get(), codec, info, now, path);
}

Result<RestoreProgress> RestoreDatabase(const std::string& snapshot_path,
                                        const std::string& data_dir, const RestoreOptions& options,
                                        int64_t now) {
  RestoreProgress progress;
  Result<uint64_t> total = VerifyFile(snapshot_path);
  if (!total.ok())
    return Status(total.status().code(), snapshot_path + ": " + total.status().message());
  progress.records_total = *total;
  Result<std::unique_ptr<snapshot::SnapshotReader>> reader =
      snapshot::SnapshotReader::Open(snapshot_path);
  if (!reader.ok()) return reader.status();
  const snapshot::SnapshotInfo info = (*reader)->info();

  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  WarmOptions warm;
  warm.data_dir = data_dir;
  warm.disk_limit = options.disk_limit;
  // Restored records may come back dead later: the filter needs the file's flush state.
  FlushState flush;
  SetFlushOf(info, &flush);
  Result<std::unique_ptr<rocks::KvStore>> kv =
      rocks::KvStore::Open(KvOptionsFor(warm), SystemClock::Get(), &flush);
  if (!kv.ok())
    return Status(kv.status().code(), "data directory " + data_dir + ": " + kv.status().message());
  WC_RETURN_IF_ERROR(Refuse(data_dir, kv->get(), options.replace));

  // No dictionary: the server trains none for a database that already holds data.
  const rocks::RecordCodec codec{rocks::CodecOptions{}};
  std::vector<rocks::Mutation> batch;
  snapshot::SnapshotRecord record;
  auto last_report = std::chrono::steady_clock::now();
  while (true) {
    Result<bool> more = (*reader)->Next(&record);
    if (!more.ok()) return more.status();  // changed since verified: the target is incomplete
    if (!*more) break;
    ++progress.records_read;
    if (record.key.compare(0, options.prefix.size(), options.prefix) != 0) {
      ++progress.filtered;
    } else if (IsDead(record, flush, now)) {
      ++progress.expired;
    } else {
      rocks::Mutation& m = batch.emplace_back();
      m.key = record.key;
      codec.Encode(rocks::RecordMeta{.client_flags = record.client_flags,
                                     .exptime = record.exptime,
                                     .cas = record.cas,
                                     .time = record.time,
                                     .value_len = static_cast<uint32_t>(record.value.size()),
                                     .item_bits = record.item_bits},
                   record.value, &m.record);
      ++progress.restored;
      progress.value_bytes += record.value.size();
    }
    if (batch.size() >= kRestoreBatch) {
      WC_RETURN_IF_ERROR((*kv)->Write(batch));
      batch.clear();
    }
    if (options.progress && std::chrono::steady_clock::now() - last_report >= kProgressEvery) {
      last_report = std::chrono::steady_clock::now();
      options.progress(progress);
    }
  }
  WC_RETURN_IF_ERROR((*kv)->Write(batch));
  // Clients may hold CAS values the source handed out after the export: start far above it.
  WC_RETURN_IF_ERROR(SaveCleanShutdown(kv->get(), info.next_cas + kCasReservation,
                                       info.flush_oldest_live, info.flush_oldest_cas, {}));
  if (options.progress) options.progress(progress);
  return progress;
}

}  // namespace warmcache::storage::warm
