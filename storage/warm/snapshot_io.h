// SPDX-License-Identifier: BSD-3-Clause
// Portable snapshot files (storage/snapshot/FORMAT.md) out of and into a warm tier's database:
// what moves a cache to another machine or another warmcache version.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "server/common/status.h"
#include "storage/rocks/kv_store.h"
#include "storage/rocks/record_codec.h"
#include "storage/snapshot/snapshot_format.h"

namespace warmcache::storage::warm {

struct ExportStats {
  uint64_t records = 0;       // written to the file
  uint64_t skipped_dead = 0;  // expired or flushed: never served again, so not exported
  uint64_t unreadable = 0;    // damaged records (a miss when served): not exported
  uint64_t value_bytes = 0;
};

// Writes every live record of `kv` (a consistent point-in-time view) to `path`; the file
// appears only when complete. `codec` must hold the database's dictionary, if it has one.
// info.next_cas must be above every record's CAS.
Result<ExportStats> ExportDatabase(rocks::KvStore* kv, const rocks::RecordCodec& codec,
                                   const snapshot::SnapshotInfo& info, int64_t now,
                                   const std::string& path);

// ExportDatabase for the data directory of a stopped warmcached (it must have shut down
// cleanly; a running one holds the directory: kBusy).
Result<ExportStats> ExportDataDir(const std::string& data_dir, const std::string& path,
                                  int64_t now);

struct RestoreProgress {
  uint64_t records_total = 0;  // in the file
  uint64_t records_read = 0;
  uint64_t restored = 0;
  uint64_t expired = 0;   // dead by now (expired, or flushed by the file's flush_all): skipped
  uint64_t filtered = 0;  // outside --prefix
  uint64_t value_bytes = 0;
};

struct RestoreOptions {
  std::string prefix;                 // only keys starting with this
  uint64_t disk_limit = 10ull << 30;  // the database's budget, as --disk-limit
  bool replace = false;               // a data directory that holds data is emptied first
  std::function<void(const RestoreProgress&)> progress;  // called now and then, and at the end
};

// Checks the whole file first (a damaged, truncated or foreign file changes nothing), then
// writes its live items into a warm-tier database at `data_dir` (which no process may be using)
// and marks it cleanly shut down, so warmcached serves them from its first request.
// kInvalidArgument if `data_dir` already holds data and !options.replace.
Result<RestoreProgress> RestoreDatabase(const std::string& snapshot_path,
                                        const std::string& data_dir, const RestoreOptions& options,
                                        int64_t now);

}  // namespace warmcache::storage::warm
