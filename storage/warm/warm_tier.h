// SPDX-License-Identifier: BSD-3-Clause
// The warm tier: items evicted from RAM live on in RocksDB, and come back on a RAM miss.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/common/clock.h"
#include "server/common/status.h"
#include "storage/fetch_batch.h"
#include "storage/flush_state.h"
#include "storage/memory/memory_tier.h"
#include "storage/rocks/kv_store.h"
#include "storage/rocks/record_codec.h"
#include "storage/warm/snapshot_io.h"
#include "storage/warm/spill_queue.h"
#include "storage/warm/warm_state.h"

namespace warmcache::storage::warm {

struct WarmOptions {
  std::string data_dir;                  // --data-dir
  uint64_t disk_limit = 10ull << 30;     // --disk-limit: bytes of the database on disk
  size_t spill_queue_bytes = 16u << 20;  // evicted bytes waiting for disk before writers wait
  int io_threads = 2;                    // threads serving reads of the warm tier
  size_t compress_min = 64;              // values shorter than this are stored raw
  int compress_level = 3;                // zstd level
  bool train_dictionary = true;          // train a zstd dictionary from the first small values
  size_t block_cache_bytes = 8u << 20;   // RocksDB block cache (part of the fixed overhead)
  // --durability=write-through: every change is written down before its reply, not only at
  // eviction and snapshots.
  bool write_through = false;
  // --snapshot-interval: seconds between writes of RAM's unsaved items (0: at shutdown only).
  int snapshot_interval = 60;
  // --damaged-data=discard: a database RocksDB cannot open is deleted instead of failing.
  bool discard_damaged = false;
  // --snapshot-dir: where snapshot files are written (scheduled, and on request); empty: none.
  std::string snapshot_dir;
  int snapshot_file_interval = 3600;  // --snapshot-file-interval: seconds (0: on request only)
  int snapshot_keep = 3;              // --snapshot-keep: files kept in snapshot_dir
  // Reads the CAS counter (any thread): the writer keeps the saved ceiling ahead of it.
  std::function<uint64_t()> current_cas;
};

// A request for a snapshot file, answered on the warm tier's background thread.
struct ExportJob {
  std::string source;                     // who the file says it came from
  std::function<uint64_t()> current_cas;  // the CAS counter when the file is cut
  std::function<void()> done;             // called (on that thread) once result is set
  std::atomic<bool> finished{false};
  std::string path;  // set with the result
  Result<ExportStats> result{Status::IoError("not run")};
};

struct WarmStats {
  uint64_t items = 0;        // RocksDB's estimate of live keys
  uint64_t disk_bytes = 0;   // table files plus memtables (what the WAL holds)
  uint64_t spills = 0;       // evicted items written
  uint64_t clean_drops = 0;  // evicted items the disk already held: nothing to write
  uint64_t invalidations = 0;
  uint64_t queue_entries = 0;
  uint64_t queue_bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t promotions = 0;
  uint64_t read_errors = 0;
  uint64_t write_errors = 0;
  uint64_t budget_drops = 0;  // table files dropped to stay under the disk limit
  uint64_t budget_dropped_bytes = 0;
  uint64_t bytes_raw = 0;     // value bytes spilled
  uint64_t bytes_stored = 0;  // record bytes written for them
  WarmStart start = WarmStart::kFresh;
  const char* reload_state = "none";  // none, running, done
  uint64_t reloaded_items = 0;
  uint64_t snapshots = 0;
};

// Thread safety: the LowerTier calls arrive from any thread with a shard lock held (they only
// queue); Fetch and Kick may be called from any thread; Stop from the owner after the last
// request.
// Threads: one writer (spill queue -> RocksDB batches) and `io_threads` readers. Readers wake
// on Kick(), not on each Fetch(): a loop thread queues the fetches of a whole batch of events
// and kicks once, so one wake-up and one MultiGet serve them all.
// Errors: a failed write or an unreadable database puts the tier out of service for good
// (logged once): reads then miss and evictions are dropped, which can lose items but never
// serve a stale one.
class WarmTier final : public LowerTier {
 public:
  // Opens the database and decides what of it may be served (warm_state.h); restored() says
  // what the caller must continue from (CAS counter, flush_all state) before serving.
  static Result<std::unique_ptr<WarmTier>> Open(const WarmOptions& options, const Clock* clock,
                                                const FlushState* flush, MemoryTier* memory);
  const RestoredState& restored() const { return restored_; }
  // Starts the background work that needs a serving server: loading the saved hottest items
  // back into RAM, then periodic snapshots.
  void StartBackground();
  ~WarmTier() override;
  WarmTier(const WarmTier&) = delete;
  WarmTier& operator=(const WarmTier&) = delete;

  // LowerTier (shard lock held).
  void OnEvict(const ItemRef& item) override;
  void OnInvalidate(std::string_view key) override;
  bool OnChange(const Item& item) override;
  void OnFlushAll() override;
  bool MayHoldKeys() const override { return may_hold_keys_.load(std::memory_order_relaxed); }
  bool MayHold(std::string_view key) override;

  // The newest write queued by the calling thread whose reply must wait until it is durable
  // (an invalidation, a write-through, a flush_all), then forgets it; 0 if none.
  static uint64_t TakeUnsyncedSeq();
  bool IsDurable(uint64_t seq) const { return queue_.IsDurable(seq); }
  // Calls `wake` (from any thread) once IsDurable(seq).
  void WhenDurable(uint64_t seq, std::function<void()> wake) {
    queue_.WhenDurable(seq, std::move(wake));
  }
  // Writes every item RAM holds that the disk does not, copies queued with back-pressure.
  // Returns how many. Any thread but a loop's.
  size_t Snapshot();
  // Queues a snapshot file into snapshot_dir (kInvalidArgument in the job without one).
  void RequestExport(std::shared_ptr<ExportJob> job);

  // Queues a read of every key of `batch`: after the next Kick() an I/O thread installs what
  // it finds in RAM, records each outcome, settles the batch and calls `done` (on that thread).
  // The batch is shared so that it outlives a session whose client leaves meanwhile.
  void Fetch(std::shared_ptr<FetchBatch> batch, std::function<void()> done);
  // Starts the reads queued so far. Cheap when there are none.
  void Kick();
  // For a caller that must not block: if every key of `batch` is certainly absent (nothing
  // queued, and RocksDB's memtables and bloom filters rule it out), ends the fetches and settles
  // the batch now, and returns true. Otherwise changes nothing: Fetch() it.
  bool ResolveWithoutIo(FetchBatch& batch);
  // True while evictions wait for disk faster than it takes them: stores should pause.
  bool Backlogged() const { return queue_.Backlogged(); }
  // Calls `wake` (from any thread) once the backlog has room again.
  void WhenRoom(std::function<void()> wake);
  // Finishes queued reads, writes everything queued, joins the threads. Idempotent. The next
  // start treats it as a crash (what reached the disk is kept).
  void Stop();
  // A clean shutdown (after the last request): writes RAM's unsaved items, stops, and marks the
  // database clean with the CAS counter, flush state and hottest keys.
  void Close(uint64_t next_cas);

  WarmStats Stats();
  // `stats reset`: zeroes the cumulative counters, not the gauges (items, bytes, queue).
  void ResetStats();

 private:
  WarmTier(const WarmOptions& options, const Clock* clock, const FlushState* flush,
           MemoryTier* memory, std::unique_ptr<rocks::KvStore> kv);
  void WriterMain();
  void WriteBatch(std::vector<SpillQueue::Entry>& batch);
  struct PendingFetch {
    std::shared_ptr<FetchBatch> batch;
    std::function<void()> done;
  };
  void ReaderMain();
  // Reads the keys of every batch in `work` with one MultiGet and installs what it finds.
  // `reload`: the background reload, whose installs are not client promotions.
  void ReadBatches(std::vector<PendingFetch>& work, bool reload = false);
  // An item from a record (or a queued item), or empty if it is dead or unreadable.
  ItemRef FromRecord(std::string_view key, const Result<std::string>& record);
  ItemRef CopyLive(const Item& queued, int64_t now) const;
  void Fail(const Status& status, const char* what);
  // The background thread: reload, then a snapshot every interval until Stop.
  void BackgroundMain();
  void StopBackground();
  void LoadDictionary();
  void ReloadHotItems();
  // Background thread: a point-in-time file of everything live, into snapshot_dir, then the
  // oldest files beyond snapshot_keep are removed.
  Result<ExportStats> ExportToSnapshotDir(const std::string& source, uint64_t next_cas,
                                          std::string* path);
  void RunExportJobs();
  uint64_t NextCasForFile() const;
  // A new file name in `dir`, sorting after every earlier one (background thread).
  std::string SnapshotFileName(const std::string& dir, int64_t now);
  int64_t last_file_seq_second_ = 0;  // background thread only
  int last_file_seq_ = 0;
  // Writer thread: keeps the saved CAS ceiling ahead of the counter.
  void MaybeExtendCasCeiling(std::vector<rocks::Mutation>* batch);
  // Writer thread: collects small values until there are enough to train a dictionary, then
  // trains it once, saves it beside the database and hands it to the codec.
  void SampleForDictionary(const Item& item);
  std::string DictionaryPath() const { return options_.data_dir + "/warmcache.zdict"; }

  const WarmOptions options_;
  const Clock* clock_;       // not owned; outlives the tier
  const FlushState* flush_;  // not owned; outlives the tier
  MemoryTier* memory_;       // not owned; outlives the tier
  std::unique_ptr<rocks::KvStore> kv_;
  rocks::RecordCodec codec_;
  SpillQueue queue_;
  std::thread writer_;
  std::vector<std::thread> readers_;
  std::mutex fetch_mu_;
  std::condition_variable fetch_ready_;
  std::vector<PendingFetch> fetches_;  // guarded by fetch_mu_
  bool kicked_ = false;                // guarded by fetch_mu_
  bool readers_stop_ = false;          // guarded by fetch_mu_
  std::atomic<bool> fetch_pending_{false};
  std::vector<std::string> dictionary_samples_;  // writer thread only
  size_t dictionary_sample_bytes_ = 0;           // writer thread only
  bool dictionary_done_ = false;                 // writer thread only
  std::atomic<bool> may_hold_keys_{false};
  RestoredState restored_;
  uint64_t cas_ceiling_ = 0;  // writer thread only (after Open)
  std::thread background_;
  std::mutex background_mu_;
  std::condition_variable background_cv_;
  bool background_stop_ = false;                         // guarded by background_mu_
  std::vector<std::shared_ptr<ExportJob>> export_jobs_;  // guarded by background_mu_
  std::atomic<int> reload_state_{0};                     // 0 none, 1 running, 2 done
  std::atomic<uint64_t> reloaded_items_{0}, snapshots_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> spills_{0}, clean_drops_{0}, invalidations_{0}, hits_{0}, misses_{0},
      promotions_{0}, read_errors_{0}, write_errors_{0}, bytes_raw_{0}, bytes_stored_{0};
  std::mutex reset_mu_;
  rocks::KvCounters kv_baseline_;  // guarded by reset_mu_: KvStore's counters at the last reset
};

// The disk budget split: RocksDB needs room beyond its table files for memtables being
// flushed, the WAL and its own files, so tables get the limit less that headroom.
struct DiskBudget {
  uint64_t write_buffer_bytes;
  uint64_t table_bytes;
};
DiskBudget SplitDiskBudget(uint64_t disk_limit);
// The database options a warm tier with `options` uses (also for offline tools on its data).
rocks::KvOptions KvOptionsFor(const WarmOptions& options);

}  // namespace warmcache::storage::warm
