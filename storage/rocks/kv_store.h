// SPDX-License-Identifier: BSD-3-Clause
// The warm tier's RocksDB database: records (FORMAT.md) by memcached key, written in batches,
// with expired and flushed records dropped by compaction. The only place rocksdb:: appears.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/common/clock.h"
#include "server/common/status.h"
#include "storage/flush_state.h"

namespace warmcache::storage::rocks {

struct KvOptions {
  std::string path;                       // the data directory
  size_t block_cache_bytes = 16u << 20;   // counted in the documented memory overhead
  size_t write_buffer_bytes = 16u << 20;  // per memtable (two at most)
  bool sync_writes = false;               // fsync each batch (write-through durability)
  // Bytes of table files kept; past it the oldest files are dropped whole (FIFO compaction).
  // 0 = no budget (level compaction, nothing dropped).
  uint64_t table_budget_bytes = 0;
  // The largest file a merge of small table files may produce (FIFO compaction).
  uint64_t max_merge_bytes = 64u << 20;
  // A database RocksDB cannot open (damaged files) is deleted and created anew instead of
  // failing. Never applies to a directory another process holds.
  bool discard_damaged = false;
  // Offline tools reading a database: no background compaction may change or drop its files.
  bool disable_compactions = false;
};

// Cumulative counters since Open.
struct KvCounters {
  uint64_t dropped_files = 0;  // table files dropped to stay within the budget
  uint64_t dropped_bytes = 0;
};

struct Mutation {
  std::string key;
  std::string record;  // empty with `erase`
  bool erase = false;
  // The key names the warm tier's own state (FORMAT.md, "Meta records"), kept apart from the
  // memcached keys in a column family of its own.
  bool meta = false;
};

// Thread safety: all methods may be called concurrently (RocksDB is thread-safe). They block
// on disk, so only the warm tier's own threads call them, never a loop thread.
class KvStore {
 public:
  // Opens (creating if needed) the database at options.path. A directory another process has
  // open fails with kBusy; an unreadable one with kIoError or kCorruption, message included.
  static Result<std::unique_ptr<KvStore>> Open(const KvOptions& options, const Clock* clock,
                                               const FlushState* flush);
  ~KvStore();
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // kNotFound on a miss.
  Result<std::string> Get(std::string_view key);
  // False only if the key is certainly absent, decided without disk I/O (memtables and the
  // in-memory bloom filters): safe to call where blocking is not allowed.
  bool MayContain(std::string_view key);
  // Get for several keys in one call: results[i] answers keys[i].
  void MultiGet(const std::vector<std::string_view>& keys, std::vector<Result<std::string>>* out);
  // One atomic batch: what a group commit writes. `sync` makes it (and everything written
  // before it) survive a power cut, not only a process crash.
  Status Write(const std::vector<Mutation>& batch, bool sync = false);
  // A meta record; kNotFound if absent.
  Result<std::string> GetMeta(std::string_view name);
  // Every meta record whose name starts with `prefix`, in name order.
  std::vector<std::pair<std::string, std::string>> ScanMeta(std::string_view prefix);
  // Calls fn(key, record) for every record of a consistent point-in-time view, in key order,
  // until fn returns false (exports).
  Status ForEachRecord(const std::function<bool(std::string_view, std::string_view)>& fn);
  // Writes the memtables to table files (a clean shutdown: the next open replays no log).
  Status FlushMemtables();
  // Deletes every record and meta record (the files go; the directory lock stays held).
  Status DiscardAll();
  // Whether Open found the database damaged and started it anew (discard_damaged).
  bool was_discarded() const;
  // Bytes on disk (SST files and WAL), as RocksDB estimates them.
  uint64_t ApproximateDiskBytes();
  uint64_t ApproximateKeys();
  // Whether the database holds any record at all (one seek).
  bool HasAnyKey();
  KvCounters Counters() const;
  // Runs a full compaction now (tests; the compaction filter then drops dead records).
  Status CompactForTest();

 private:
  struct Impl;
  explicit KvStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warmcache::storage::rocks
