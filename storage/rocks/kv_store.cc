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
#include <filesystem>
#include <system_error>

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

// The warm tier's own state (FORMAT.md, "Meta records") lives beside the records in a column
// family of its own: no memcached key can collide with it, and FIFO compaction, which drops
// whole files of records, never drops it.
constexpr const char* kMetaFamily = "warmcache.meta";

rocksdb::ColumnFamilyOptions MetaFamilyOptions() {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = 1u << 20;  // a few small records
  o.max_write_buffer_number = 2;
  o.compression = rocksdb::kNoCompression;
  return o;
}

// Files a damaged database may consist of: what RocksDB writes, and the warm tier's own files.
// Nothing else in the directory is touched when such a database is discarded.
bool IsDatabaseFile(const std::string& name) {
  for (const char* prefix :
       {"CURRENT", "MANIFEST-", "OPTIONS-", "LOG", "IDENTITY", "LOCK", "warmcache."}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  for (const char* suffix : {".sst", ".log", ".dbtmp", ".blob"}) {
    const size_t n = std::char_traits<char>::length(suffix);
    if (name.size() > n && name.compare(name.size() - n, n, suffix) == 0) return true;
  }
  return false;
}

void RemoveDatabaseFiles(const std::string& path) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (IsDatabaseFile(entry.path().filename().string())) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

}  // namespace

struct KvStore::Impl {
  std::unique_ptr<DeadRecordFilter> filter;
  std::shared_ptr<BudgetDropCounter> drops = std::make_shared<BudgetDropCounter>();
  std::string path;
  rocksdb::Options db_options;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* records = nullptr;  // owned by db
  rocksdb::ColumnFamilyHandle* meta = nullptr;     // destroyed before db closes
  rocksdb::WriteOptions write_options;
  rocksdb::ReadOptions read_options;
  bool discarded = false;

  rocksdb::Status OpenDb() {
    rocksdb::DBOptions db_wide(db_options);
    db_wide.create_missing_column_families = true;
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(db_options)},
        {kMetaFamily, MetaFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = rocksdb::DB::Open(db_wide, path, families, &handles, &raw);
    if (!s.ok()) return s;
    db.reset(raw);
    records = db->DefaultColumnFamily();
    meta = handles[1];
    db->DestroyColumnFamilyHandle(handles[0]);  // DefaultColumnFamily() stays valid
    return s;
  }
  void CloseDb() {
    if (!db) return;
    if (meta != nullptr) db->DestroyColumnFamilyHandle(meta);
    meta = nullptr;
    records = nullptr;
    db.reset();
  }
  // Deletes the database's files (we hold or just held its lock) and creates it anew.
  rocksdb::Status Recreate() {
    CloseDb();
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(db_options)},
        {kMetaFamily, MetaFamilyOptions()}};
    rocksdb::Status s = rocksdb::DestroyDB(path, db_options, families);
    if (!s.ok()) RemoveDatabaseFiles(path);  // too damaged for RocksDB to list its own files
    return OpenDb();
  }
  ~Impl() { CloseDb(); }
};

KvStore::KvStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KvStore::~KvStore() = default;

Result<std::unique_ptr<KvStore>> KvStore::Open(const KvOptions& options, const Clock* clock,
                                               const FlushState* flush) {
  auto impl = std::make_unique<Impl>();
  impl->filter = std::make_unique<DeadRecordFilter>(clock, flush);
  impl->path = options.path;
  rocksdb::Options& db_options = impl->db_options;
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
  db_options.disable_auto_compactions = options.disable_compactions;
  rocksdb::Status s = impl->OpenDb();
  if (!s.ok() && options.discard_damaged && FromRocks(s).code() != StatusCode::kBusy) {
    // A lock held elsewhere is never "damage": only a database nobody uses is discarded.
    impl->discarded = true;
    s = impl->Recreate();
  }
  if (!s.ok()) return FromRocks(s);
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

Status KvStore::Write(const std::vector<Mutation>& batch, bool sync) {
  rocksdb::WriteBatch write;
  for (const Mutation& m : batch) {
    rocksdb::ColumnFamilyHandle* family = m.meta ? impl_->meta : impl_->records;
    if (m.erase) {
      write.Delete(family, ToSlice(m.key));
    } else {
      write.Put(family, ToSlice(m.key), ToSlice(m.record));
    }
  }
  rocksdb::WriteOptions options = impl_->write_options;
  options.sync = options.sync || sync;
  return FromRocks(impl_->db->Write(options, &write));
}

Result<std::string> KvStore::GetMeta(std::string_view name) {
  std::string value;
  const rocksdb::Status s = impl_->db->Get(impl_->read_options, impl_->meta, ToSlice(name), &value);
  if (!s.ok()) return FromRocks(s);
  return value;
}

std::vector<std::pair<std::string, std::string>> KvStore::ScanMeta(std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(impl_->read_options, impl_->meta));
  for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix));
       it->Next()) {
    out.emplace_back(it->key().ToString(), it->value().ToString());
  }
  return out;
}

Status KvStore::ForEachRecord(const std::function<bool(std::string_view, std::string_view)>& fn) {
  rocksdb::ReadOptions options = impl_->read_options;
  options.fill_cache = false;  // an export reads everything once: keep the hot blocks cached
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options, impl_->records));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status());
}

Status KvStore::FlushMemtables() {
  rocksdb::FlushOptions options;
  options.wait = true;
  return FromRocks(impl_->db->Flush(options, {impl_->records, impl_->meta}));
}

Status KvStore::DiscardAll() { return FromRocks(impl_->Recreate()); }

bool KvStore::was_discarded() const { return impl_->discarded; }

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
