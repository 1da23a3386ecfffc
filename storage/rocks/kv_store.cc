// SPDX-License-Identifier: BSD-3-Clause
#include "storage/rocks/kv_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <atomic>

#include "storage/rocks/record_codec.h"

namespace warmcache::storage::rocks {

namespace {

// The one place a rocksdb::Status is examined.
Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound();
  if (s.IsCorruption()) return Status::Corruption(s.ToString());
  // RocksDB reports a held LOCK file as an I/O error mentioning the lock.
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Status::Busy("data directory is in use by another process (" + s.ToString() + ")");
  }
  return Status::IoError(s.ToString());
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

bool AnyKey(rocksdb::DB* db, const rocksdb::ReadOptions& read_options) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options));
  it->SeekToFirst();
  return it->Valid();
}

// Drops records that can never be served again: expired, or older than a flush_all.
class DeadRecordFilter final : public rocksdb::CompactionFilter {
 public:
  DeadRecordFilter(const Clock* clock, const FlushState* flush) : clock_(clock), flush_(flush) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*,
              bool*) const override {
    const RecordCodec codec{CodecOptions{}};
    Result<RecordMeta> meta = codec.DecodeMeta(std::string_view(value.data(), value.size()));
    if (!meta.ok()) return true;  // unreadable: serving it is impossible anyway
    const int64_t now = clock_->NowSeconds();
    return IsExpired(meta->exptime, now) ||
           (flush_ != nullptr && flush_->IsFlushed(meta->time, meta->cas, now));
  }
  const char* Name() const override { return "warmcache.DeadRecordFilter"; }

 private:
  const Clock* clock_;       // not owned; outlives the database
  const FlushState* flush_;  // not owned; may be null
};

// Counts the table files FIFO compaction drops to keep the budget: the warm tier's evictions.
class BudgetDropCounter final : public rocksdb::EventListener {
 public:
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo& info) override {
    if (info.compaction_reason != rocksdb::CompactionReason::kFIFOMaxSize) return;
    files.fetch_add(info.input_files.size(), std::memory_order_relaxed);
    // Dropped files are deleted unread, so the job's byte counts are zero: sum their sizes.
    uint64_t dropped = 0;
    for (const auto& [path, props] : info.table_properties) {
      if (props) dropped += props->data_size + props->index_size + props->filter_size;
    }
    bytes.fetch_add(dropped, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> files{0};
  std::atomic<uint64_t> bytes{0};
};

}  // namespace

struct KvStore::Impl {
  std::unique_ptr<DeadRecordFilter> filter;
  std::shared_ptr<BudgetDropCounter> drops = std::make_shared<BudgetDropCounter>();
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteOptions write_options;
  rocksdb::ReadOptions read_options;
};

KvStore::KvStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KvStore::~KvStore() = default;

Result<std::unique_ptr<KvStore>> KvStore::Open(const KvOptions& options, const Clock* clock,
                                               const FlushState* flush) {
  auto impl = std::make_unique<Impl>();
  impl->filter = std::make_unique<DeadRecordFilter>(clock, flush);
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.compaction_filter = impl->filter.get();
  db_options.write_buffer_size = options.write_buffer_bytes;
  db_options.max_write_buffer_number = 2;
  // Values are compressed per record by zstd already; RocksDB's block compression would
  // spend CPU for little.
  db_options.compression = rocksdb::kNoCompression;
  db_options.listeners.push_back(impl->drops);
  // RocksDB's own files must not eat the disk budget: warnings only in its info log (at most
  // 3 x 256 KiB), and a MANIFEST that starts afresh past 1 MiB (FIFO edits it at every file).
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.max_log_file_size = 256u << 10;
  db_options.keep_log_file_num = 2;
  db_options.max_manifest_file_size = 1u << 20;
  if (options.table_budget_bytes > 0) {
    // A cache on a budget: the disk is a log of evictions and the oldest files go first. No
    // compaction rewrites data (little write amplification), and small L0 files are merged
    // (which runs the filter above on them).
    db_options.compaction_style = rocksdb::kCompactionStyleFIFO;
    db_options.compaction_options_fifo.max_table_files_size = options.table_budget_bytes;
    db_options.compaction_options_fifo.allow_compaction = true;
    db_options.max_compaction_bytes = options.max_merge_bytes;
    db_options.max_total_wal_size = 2 * options.write_buffer_bytes;
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));  // misses skip most files
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  impl->write_options.sync = options.sync_writes;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, &raw);
  if (!s.ok()) return FromRocks(s);
  impl->db.reset(raw);
  if (options.discard_existing) {
    if (AnyKey(impl->db.get(), impl->read_options)) {
      // We hold the LOCK until the close: nobody else can be using these files.
      impl->db.reset();
      s = rocksdb::DestroyDB(options.path, db_options);
      if (s.ok()) s = rocksdb::DB::Open(db_options, options.path, &raw);
      if (!s.ok()) return FromRocks(s);
      impl->db.reset(raw);
    }
  }
  return std::unique_ptr<KvStore>(new KvStore(std::move(impl)));
}

Result<std::string> KvStore::Get(std::string_view key) {
  std::string value;
  const rocksdb::Status s = impl_->db->Get(impl_->read_options, ToSlice(key), &value);
  if (!s.ok()) return FromRocks(s);
  return value;
}

bool KvStore::MayContain(std::string_view key) {
  // RocksDB answers this from the block-cache tier only: a filter or memtable says "no", or the
  // answer is "maybe"; it never reads a file.
  std::string ignored;
  return impl_->db->KeyMayExist(impl_->read_options, ToSlice(key), &ignored);
}

void KvStore::MultiGet(const std::vector<std::string_view>& keys,
                       std::vector<Result<std::string>>* out) {
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (std::string_view key : keys) slices.push_back(ToSlice(key));
  std::vector<std::string> values;
  const std::vector<rocksdb::Status> statuses =
      impl_->db->MultiGet(impl_->read_options, slices, &values);
  out->clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) {
      out->emplace_back(std::move(values[i]));
    } else {
      out->emplace_back(FromRocks(statuses[i]));
    }
  }
}

Status KvStore::Write(const std::vector<Mutation>& batch) {
  rocksdb::WriteBatch write;
  for (const Mutation& m : batch) {
    if (m.erase) {
      write.Delete(ToSlice(m.key));
    } else {
      write.Put(ToSlice(m.key), ToSlice(m.record));
    }
  }
  return FromRocks(impl_->db->Write(impl_->write_options, &write));
}

uint64_t KvStore::ApproximateDiskBytes() {
  uint64_t sst = 0;
  uint64_t wal = 0;
  impl_->db->GetIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &sst);
  impl_->db->GetIntProperty("rocksdb.cur-size-all-mem-tables", &wal);
  return sst + wal;
}

uint64_t KvStore::ApproximateKeys() {
  uint64_t keys = 0;
  impl_->db->GetIntProperty(rocksdb::DB::Properties::kEstimateNumKeys, &keys);
  return keys;
}

bool KvStore::HasAnyKey() { return AnyKey(impl_->db.get(), impl_->read_options); }

KvCounters KvStore::Counters() const {
  return KvCounters{.dropped_files = impl_->drops->files.load(std::memory_order_relaxed),
                    .dropped_bytes = impl_->drops->bytes.load(std::memory_order_relaxed)};
}

Status KvStore::CompactForTest() {
  return FromRocks(impl_->db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr));
}

}  // namespace warmcache::storage::rocks
