// SPDX-License-Identifier: BSD-3-Clause
#include "storage/warm/warm_tier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <system_error>

namespace warmcache::storage::warm {

namespace {

constexpr size_t kBatchEntries = 512;
constexpr size_t kBatchBytes = 4u << 20;
constexpr auto kWriterIdleWait = std::chrono::milliseconds(100);
// A damaged database could log a line per request: the first few say it, warm_read_errors counts.
constexpr uint64_t kLoggedReadErrors = 10;
// zstd's advice: a dictionary about 1/100 of its samples, trained from a few thousand of them.
constexpr size_t kDictionarySamples = 4000;
constexpr size_t kDictionarySampleBytes = 1u << 20;
constexpr size_t kDictionaryBytes = 16u << 10;

// The write whose durability the current request's reply waits for (see TakeUnsyncedSeq).
thread_local uint64_t t_unsynced_seq = 0;

void NoteUnsynced(uint64_t seq) { t_unsynced_seq = std::max(t_unsynced_seq, seq); }

// Reloading stops short of the memory limit: it must not evict what it loaded itself.
constexpr double kReloadFill = 0.9;
constexpr size_t kReloadBatch = 256;

void PruneSnapshotFiles(const std::string& dir, int keep) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("warmcache-", 0) == 0 && entry.path().extension() == ".wcsnap") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < files.size(); ++i) {
    std::filesystem::remove(files[i], ec);
  }
}

// Item state a record keeps beside the value (RecordMeta::item_bits, FORMAT.md).
enum ItemBits : uint8_t { kStaleBit = 1, kWinSentBit = 2, kKeyBinaryBit = 4, kFetchedBit = 8 };

uint8_t BitsOf(const Item& item) {
  return static_cast<uint8_t>((item.stale ? kStaleBit : 0) | (item.win_sent ? kWinSentBit : 0) |
                              (item.key_binary ? kKeyBinaryBit : 0) |
                              (item.fetched ? kFetchedBit : 0));
}

void ApplyBits(uint8_t bits, Item* item) {
  item->stale = (bits & kStaleBit) != 0;
  item->win_sent = (bits & kWinSentBit) != 0;
  item->key_binary = (bits & kKeyBinaryBit) != 0;
  item->fetched = (bits & kFetchedBit) != 0;
}

}  // namespace

DiskBudget SplitDiskBudget(uint64_t disk_limit) {
  // Memtables are RAM outside -m: 16 MiB each at most (two of them) keeps that overhead fixed.
  const uint64_t write_buffer = std::clamp<uint64_t>(disk_limit / 32, 1u << 20, 16u << 20);
  // Beside the table files: two memtables' worth of WAL, two memtables being flushed, one
  // merge of small files (its output exists beside its inputs until they are deleted; capped
  // at 4 write buffers) and 4 MiB for RocksDB's own files (MANIFEST old and new while it rolls
  // over at 1 MiB, OPTIONS, the info log capped at 3 x 256 KiB).
  const uint64_t headroom = 8 * write_buffer + (4u << 20);
  // (--disk-limit is at least 16 MiB, so the tables always get some of it.)
  return DiskBudget{write_buffer, disk_limit > headroom ? disk_limit - headroom : disk_limit / 2};
}

rocks::KvOptions KvOptionsFor(const WarmOptions& options) {
  const DiskBudget budget = SplitDiskBudget(options.disk_limit);
  rocks::KvOptions kv_options;
  kv_options.path = options.data_dir;
  kv_options.block_cache_bytes = options.block_cache_bytes;
  kv_options.write_buffer_bytes = budget.write_buffer_bytes;
  kv_options.table_budget_bytes = budget.table_bytes;
  kv_options.max_merge_bytes = 4 * budget.write_buffer_bytes;
  kv_options.discard_damaged = options.discard_damaged;
  return kv_options;
}

Result<std::unique_ptr<WarmTier>> WarmTier::Open(const WarmOptions& options, const Clock* clock,
                                                 const FlushState* flush, MemoryTier* memory) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Status::IoError("cannot create data directory " + options.data_dir + ": " +
                           ec.message());
  }
  const rocks::KvOptions kv_options = KvOptionsFor(options);
  Result<std::unique_ptr<rocks::KvStore>> kv = rocks::KvStore::Open(kv_options, clock, flush);
  if (!kv.ok()) {
    const bool damaged = kv.status().code() != StatusCode::kBusy;
    return Status(kv.status().code(),
                  "data directory " + options.data_dir + ": " + kv.status().message() +
                      (damaged ? " (--damaged-data=discard deletes it and starts empty)" : ""));
  }
  Result<RestoredState> restored = OpenWarmState(kv.value().get(), options.data_dir);
  if (!restored.ok()) {
    return Status(restored.status().code(),
                  "data directory " + options.data_dir + ": " + restored.status().message());
  }
  std::unique_ptr<WarmTier> tier(
      new WarmTier(options, clock, flush, memory, std::move(kv).value()));
  tier->restored_ = std::move(restored).value();
  tier->cas_ceiling_ = tier->restored_.next_cas + kCasReservation;
  const WarmStart start = tier->restored_.start;
  if (start == WarmStart::kClean || start == WarmStart::kRecovered) {
    tier->may_hold_keys_.store(tier->kv_->HasAnyKey(), std::memory_order_relaxed);
    tier->LoadDictionary();
  }
  tier->writer_ = std::thread([t = tier.get()] { t->WriterMain(); });
  pthread_setname_np(tier->writer_.native_handle(), "wc-spill");
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    tier->readers_.emplace_back([t = tier.get()] { t->ReaderMain(); });
    pthread_setname_np(tier->readers_.back().native_handle(), "wc-warm-io");
  }
  return tier;
}

WarmTier::WarmTier(const WarmOptions& options, const Clock* clock, const FlushState* flush,
                   MemoryTier* memory, std::unique_ptr<rocks::KvStore> kv)
    : options_(options),
      clock_(clock),
      flush_(flush),
      memory_(memory),
      kv_(std::move(kv)),
      codec_(rocks::CodecOptions{options.compress_min, options.compress_level}),
      queue_(options.spill_queue_bytes) {}

WarmTier::~WarmTier() { Stop(); }

void WarmTier::LoadDictionary() {
  std::ifstream file(DictionaryPath(), std::ios::binary);
  if (!file) return;
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  Result<std::unique_ptr<rocks::Dictionary>> dictionary =
      rocks::Dictionary::FromBytes(std::move(bytes), options_.compress_level);
  // Records written with it need it; without it they read as damaged, which is a miss.
  if (!dictionary.ok()) {
    spdlog::warn("warm tier: unreadable zstd dictionary {}: {}", DictionaryPath(),
                 dictionary.status().ToString());
    return;
  }
  codec_.SetDictionary(std::move(dictionary).value());
  dictionary_done_ = true;  // a database has at most one
}

void WarmTier::StartBackground() {
  background_ = std::thread([this] { BackgroundMain(); });
  pthread_setname_np(background_.native_handle(), "wc-snapshot");
}

void WarmTier::StopBackground() {
  {
    std::lock_guard lock(background_mu_);
    background_stop_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  std::vector<std::shared_ptr<ExportJob>> jobs;
  {
    std::lock_guard lock(background_mu_);
    jobs.swap(export_jobs_);
  }
  for (const std::shared_ptr<ExportJob>& job : jobs) {
    job->result = Status(StatusCode::kShutdown, "the server is shutting down");
    job->finished.store(true, std::memory_order_release);
    job->done();
  }
}

void WarmTier::BackgroundMain() {
  ReloadHotItems();
  using SteadyClock = std::chrono::steady_clock;
  // "Never" is far enough ahead without overflowing the clock's arithmetic.
  const auto after = [](int seconds) {
    return SteadyClock::now() +
           (seconds > 0 ? std::chrono::seconds(seconds) : std::chrono::hours(24 * 3650));
  };
  const int file_interval = options_.snapshot_dir.empty() ? 0 : options_.snapshot_file_interval;
  auto next_snapshot = after(options_.snapshot_interval);
  auto next_file = after(file_interval);
  std::unique_lock lock(background_mu_);
  while (!background_stop_) {
    background_cv_.wait_until(lock, std::min(next_snapshot, next_file),
                              [this] { return background_stop_ || !export_jobs_.empty(); });
    if (background_stop_) break;
    lock.unlock();
    RunExportJobs();
    if (SteadyClock::now() >= next_snapshot) {
      spdlog::debug("warm tier: snapshot wrote {} items", Snapshot());
      // The reload after a crash starts from these.
      const Status saved = SaveHotKeys(kv_.get(), memory_->HottestKeys(memory_->memory_limit()));
      if (!saved.ok()) Fail(saved, "write");
      next_snapshot = after(options_.snapshot_interval);
    }
    if (SteadyClock::now() >= next_file) {
      std::string path;
      Result<ExportStats> stats = ExportToSnapshotDir("scheduled", NextCasForFile(), &path);
      if (!stats.ok())
        spdlog::error("warm tier: scheduled snapshot file: {}", stats.status().ToString());
      next_file = after(file_interval);
    }
    lock.lock();
  }
}

uint64_t WarmTier::NextCasForFile() const {
  // Without a counter (tests), the ceiling is above every CAS handed out.
  return options_.current_cas ? options_.current_cas() + 1 : restored_.next_cas + kCasReservation;
}

void WarmTier::RequestExport(std::shared_ptr<ExportJob> job) {
  {
    std::lock_guard lock(background_mu_);
    if (!background_stop_ && background_.joinable()) {
      export_jobs_.push_back(std::move(job));
      background_cv_.notify_all();
      return;
    }
  }
  job->result = Status(StatusCode::kShutdown, "the server is shutting down");
  job->finished.store(true, std::memory_order_release);
  job->done();
}

void WarmTier::RunExportJobs() {
  std::vector<std::shared_ptr<ExportJob>> jobs;
  {
    std::lock_guard lock(background_mu_);
    jobs.swap(export_jobs_);
  }
  for (const std::shared_ptr<ExportJob>& job : jobs) {
    job->result = ExportToSnapshotDir(job->source, job->current_cas() + 1, &job->path);
    job->finished.store(true, std::memory_order_release);
    job->done();
  }
}

// Snapshot files sort by name in the order they were written: the second, then a fixed-width
// sequence number within it ("-" before "." would sort "...Z-1" ahead of "...Z").
std::string WarmTier::SnapshotFileName(const std::string& dir, int64_t now) {
  const time_t t = static_cast<time_t>(now);
  struct tm utc {};
  gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  // After every file of this second, even ones pruned since: a reused number would sort first.
  const std::string prefix = std::string("warmcache-") + stamp + "-";
  int next = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0)
      next = std::max(next, std::atoi(name.c_str() + prefix.size()) + 1);
  }
  next = std::max(next, last_file_seq_second_ == now ? last_file_seq_ + 1 : 0);
  last_file_seq_second_ = now;
  last_file_seq_ = next;
  return fmt::format("{}/{}{:03}.wcsnap", dir, prefix, next);
}

Result<ExportStats> WarmTier::ExportToSnapshotDir(const std::string& source, uint64_t next_cas,
                                                  std::string* path) {
  if (options_.snapshot_dir.empty()) {
    return Status::InvalidArgument("snapshot files are off (start with --snapshot-dir DIR)");
  }
  if (failed_.load(std::memory_order_relaxed)) {
    return Status::IoError("the disk tier is out of service");
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.snapshot_dir, ec);
  // Everything acknowledged so far is on disk before the file is cut: RAM's unsaved items,
  // then every queued write.
  Snapshot();
  std::promise<void> durable;
  queue_.WhenDurable(queue_.PushBarrier(), [&durable] { durable.set_value(); });
  durable.get_future().wait();
  const int64_t now = clock_->NowSeconds();
  *path = SnapshotFileName(options_.snapshot_dir, now);
  const snapshot::SnapshotInfo info{.format_version = snapshot::kFormatVersion,
                                    .created_unix = now,
                                    .source = source,
                                    .next_cas = next_cas,
                                    .flush_oldest_live = flush_->oldest_live(),
                                    .flush_oldest_cas = flush_->oldest_cas()};
  Result<ExportStats> stats = ExportDatabase(kv_.get(), codec_, info, now, *path);
  if (!stats.ok()) return stats;
  spdlog::info("warm tier: snapshot file {}: {} items", *path, stats->records);
  PruneSnapshotFiles(options_.snapshot_dir, options_.snapshot_keep);
  return stats;
}

void WarmTier::ReloadHotItems() {
  const std::vector<std::string>& keys = restored_.hot_keys;
  if (keys.empty()) return;
  reload_state_.store(1, std::memory_order_relaxed);
  const auto started = std::chrono::steady_clock::now();
  auto last_log = started;
  const size_t room =
      static_cast<size_t>(static_cast<double>(memory_->memory_limit()) * kReloadFill);
  size_t next = 0;
  size_t reloaded_bytes_per_item = 0;
  while (next < keys.size() && memory_->used_memory() < room) {
    {
      std::lock_guard lock(background_mu_);
      if (background_stop_) break;
    }
    // Near the limit, batches shrink to what still fits: an overshoot would evict the hottest
    // items, loaded first.
    const size_t used = memory_->used_memory();
    const size_t average = reloaded_bytes_per_item > 0 ? reloaded_bytes_per_item : 1;
    const size_t fits = std::clamp<size_t>((room - used) / average, 1, kReloadBatch);
    auto batch = std::make_shared<FetchBatch>();
    for (; next < keys.size() && batch->size() < fits; ++next) {
      memory_->WithKey(keys[next], [&](MemoryTier::KeyTxn& txn) {
        if (txn.item() == nullptr) txn.BeginFetch(batch->Add());
        return true;
      });
    }
    std::vector<PendingFetch> work{PendingFetch{batch, [] {}}};
    const uint64_t before = reloaded_items_.load(std::memory_order_relaxed);
    ReadBatches(work, /*reload=*/true);
    batch->Settle();
    const uint64_t installed = reloaded_items_.load(std::memory_order_relaxed) - before;
    if (installed > 0 && memory_->used_memory() > used) {
      reloaded_bytes_per_item = (memory_->used_memory() - used) / installed;
    }
    if (std::chrono::steady_clock::now() - last_log >= std::chrono::seconds(1)) {
      last_log = std::chrono::steady_clock::now();
      spdlog::info("warm tier: reloading the hottest items: {} of {}",
                   reloaded_items_.load(std::memory_order_relaxed), keys.size());
    }
  }
  reload_state_.store(2, std::memory_order_relaxed);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("warm tier: reloaded {} of the {} hottest items into RAM in {:.1f} s",
               reloaded_items_.load(std::memory_order_relaxed), keys.size(), seconds);
}

size_t WarmTier::Snapshot() {
  if (failed_.load(std::memory_order_relaxed)) return 0;
  size_t written = 0;
  memory_->ForEachUnsaved(
      [&](const Item& item) {
        // A copy: the item stays linked, and hits change its header fields meanwhile.
        ItemRef copy = ItemRef::Copy(item);
        if (!copy) return false;
        may_hold_keys_.store(true, std::memory_order_relaxed);
        queue_.PushItem(std::move(copy));
        ++written;
        return true;
      },
      [&] {
        if (!queue_.Backlogged()) return;
        std::promise<void> room;
        queue_.WhenRoom([&room] { room.set_value(); });
        room.get_future().wait();
      });
  snapshots_.fetch_add(1, std::memory_order_relaxed);
  return written;
}

void WarmTier::Close(uint64_t next_cas) {
  StopBackground();
  const size_t written = Snapshot();
  const std::vector<std::string> hot = memory_->HottestKeys(memory_->memory_limit());
  Stop();
  if (failed_.load(std::memory_order_relaxed)) return;  // the next start will not trust it
  const Status saved =
      SaveCleanShutdown(kv_.get(), next_cas, flush_->oldest_live(), flush_->oldest_cas(), hot);
  if (!saved.ok()) {
    spdlog::error(
        "warm tier: cannot mark the data directory clean ({}); the next start treats "
        "this stop as a crash",
        saved.ToString());
    return;
  }
  spdlog::info("warm tier: clean shutdown, {} items written from RAM", written);
}

void WarmTier::Stop() {
  StopBackground();
  if (stopped_.exchange(true)) return;
  {
    std::lock_guard lock(fetch_mu_);
    readers_stop_ = true;  // what is queued is still read
  }
  fetch_ready_.notify_all();
  for (std::thread& t : readers_) t.join();
  queue_.Stop();
  if (writer_.joinable()) writer_.join();
}

// ---- spilling (writer thread) ----

void WarmTier::OnEvict(const ItemRef& item) {
  if (item->disk == kDiskClean) {
    clean_drops_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (failed_.load(std::memory_order_relaxed)) return;
  may_hold_keys_.store(true, std::memory_order_relaxed);
  queue_.PushItem(item);
}

void WarmTier::OnInvalidate(std::string_view key) {
  if (failed_.load(std::memory_order_relaxed)) return;
  NoteUnsynced(queue_.PushInvalidate(key));
}

bool WarmTier::OnChange(const Item& item) {
  if (!options_.write_through || failed_.load(std::memory_order_relaxed)) return false;
  ItemRef copy = ItemRef::Copy(item);  // the linked item's header keeps changing
  if (!copy) return false;             // the caller invalidates instead
  may_hold_keys_.store(true, std::memory_order_relaxed);
  NoteUnsynced(queue_.PushItem(std::move(copy)));
  return true;
}

void WarmTier::OnFlushAll() {
  if (failed_.load(std::memory_order_relaxed)) return;
  NoteUnsynced(queue_.PushBarrier());  // the writer saves the flush state with it
}

bool WarmTier::MayHold(std::string_view key) {
  if (!MayHoldKeys() || failed_.load(std::memory_order_relaxed)) return false;
  return queue_.Lookup(key).has_value() || kv_->MayContain(key);
}

uint64_t WarmTier::TakeUnsyncedSeq() { return std::exchange(t_unsynced_seq, 0); }

void WarmTier::WhenRoom(std::function<void()> wake) { queue_.WhenRoom(std::move(wake)); }

void WarmTier::WriterMain() {
  std::vector<SpillQueue::Entry> batch;
  while (queue_.TakeBatch(&batch, kBatchEntries, kBatchBytes, kWriterIdleWait)) {
    if (!batch.empty()) {
      WriteBatch(batch);
    } else if (!failed_.load(std::memory_order_relaxed)) {
      std::vector<rocks::Mutation> ceiling;
      MaybeExtendCasCeiling(&ceiling);
      const Status status = ceiling.empty() ? Status::Ok() : kv_->Write(ceiling);
      if (!status.ok()) Fail(status, "write");
    }
    queue_.Retire(&batch);
  }
}

void WarmTier::MaybeExtendCasCeiling(std::vector<rocks::Mutation>* batch) {
  // After a crash the counter resumes at the saved ceiling; keep it far ahead of the counter.
  // (Checked at every batch and every 100 ms idle: 2^31 CAS values ahead is ample.)
  if (!options_.current_cas) return;
  const uint64_t cas = options_.current_cas();
  if (cas + kCasReservation / 2 < cas_ceiling_) return;
  cas_ceiling_ = cas + kCasReservation;
  batch->push_back(CasCeilingMutation(cas_ceiling_));
}

void WarmTier::WriteBatch(std::vector<SpillQueue::Entry>& batch) {
  if (failed_.load(std::memory_order_relaxed)) return;  // out of service: evictions are lost
  std::vector<rocks::Mutation> mutations(batch.size());
  uint64_t raw = 0;
  uint64_t stored = 0;
  uint64_t spills = 0;
  uint64_t barriers = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const SpillQueue::Entry& entry = batch[i];
    rocks::Mutation& m = mutations[i];
    if (entry.barrier) {
      ++barriers;
      m = FlushStateMutation(flush_->oldest_live(), flush_->oldest_cas());
      continue;
    }
    m.key = entry.key;
    if (!entry.item) {
      m.erase = true;
      continue;
    }
    // A queued item is unlinked, so nothing mutates it any more: no lock needed to read it.
    const Item& item = *entry.item;
    const rocks::RecordMeta meta{.client_flags = item.client_flags,
                                 .exptime = item.exptime,
                                 .cas = item.cas,
                                 .time = item.time,
                                 .value_len = item.value_len,
                                 .item_bits = BitsOf(item)};
    SampleForDictionary(item);
    codec_.Encode(meta, item.value(), &m.record);
    raw += item.value_len;
    stored += m.record.size();
    ++spills;
  }
  MaybeExtendCasCeiling(&mutations);
  const Status status = kv_->Write(mutations);
  if (!status.ok()) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    Fail(status, "write");
    return;
  }
  spills_.fetch_add(spills, std::memory_order_relaxed);
  invalidations_.fetch_add(batch.size() - spills - barriers, std::memory_order_relaxed);
  bytes_raw_.fetch_add(raw, std::memory_order_relaxed);
  bytes_stored_.fetch_add(stored, std::memory_order_relaxed);
}

void WarmTier::SampleForDictionary(const Item& item) {
  if (dictionary_done_ || !options_.train_dictionary) return;
  if (item.value_len < options_.compress_min ||
      item.value_len > codec_.options().dictionary_max_value) {
    return;
  }
  dictionary_samples_.emplace_back(item.value());
  dictionary_sample_bytes_ += item.value_len;
  if (dictionary_samples_.size() < kDictionarySamples &&
      dictionary_sample_bytes_ < kDictionarySampleBytes) {
    return;
  }
  dictionary_done_ = true;
  Result<std::unique_ptr<rocks::Dictionary>> trained =
      rocks::Dictionary::Train(dictionary_samples_, kDictionaryBytes, options_.compress_level);
  const size_t samples = dictionary_samples_.size();
  std::vector<std::string>().swap(dictionary_samples_);
  if (!trained.ok()) {
    spdlog::info("warm tier: no zstd dictionary ({})", trained.status().message());
    return;
  }
  // Records written with it need it to be read: keep it beside the database first.
  const std::string& bytes = trained.value()->bytes();
  const std::string path = DictionaryPath();
  std::ofstream file(path + ".tmp", std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file || std::rename((path + ".tmp").c_str(), path.c_str()) != 0) {
    spdlog::warn("warm tier: cannot save the zstd dictionary to {}; not using one", path);
    return;
  }
  spdlog::info("warm tier: zstd dictionary of {} bytes trained from {} values", bytes.size(),
               samples);
  codec_.SetDictionary(std::move(trained).value());
}

void WarmTier::Fail(const Status& status, const char* what) {
  // An unapplied invalidation could let an old value be served: stop reading the disk at all.
  if (failed_.exchange(true)) return;
  DistrustData(options_.data_dir);
  spdlog::error("warm tier: {} failed ({}); disk tier out of service, RAM-only from now on", what,
                status.ToString());
}

// ---- reading (I/O threads) ----

void WarmTier::Fetch(std::shared_ptr<FetchBatch> batch, std::function<void()> done) {
  std::lock_guard lock(fetch_mu_);
  fetches_.push_back(PendingFetch{std::move(batch), std::move(done)});
  fetch_pending_.store(true, std::memory_order_relaxed);
}

void WarmTier::Kick() {
  if (!fetch_pending_.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lock(fetch_mu_);
    kicked_ = true;
  }
  fetch_ready_.notify_one();
}

bool WarmTier::ResolveWithoutIo(FetchBatch& batch) {
  if (failed_.load(std::memory_order_relaxed)) return false;  // the readers answer "absent"
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::string& key = batch.ticket(i).key;
    if (queue_.Lookup(key).has_value() || kv_->MayContain(key)) return false;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    batch.SetOutcome(i, memory_->EndFetch(&batch.ticket(i), ItemRef()));
  }
  batch.Settle();
  return true;
}

void WarmTier::ReaderMain() {
  std::vector<PendingFetch> work;
  while (true) {
    {
      std::unique_lock lock(fetch_mu_);
      fetch_ready_.wait(lock, [this] { return readers_stop_ || (kicked_ && !fetches_.empty()); });
      if (fetches_.empty()) return;  // stopping, and nothing left to read
      work.swap(fetches_);
      kicked_ = false;
      fetch_pending_.store(false, std::memory_order_relaxed);
    }
    ReadBatches(work);
    for (PendingFetch& pending : work) {
      pending.batch->Settle();
      pending.done();
    }
    work.clear();
  }
}

void WarmTier::ReadBatches(std::vector<PendingFetch>& work, bool reload) {
  const int64_t now = clock_->NowSeconds();
  struct Slot {
    FetchBatch* batch;
    size_t index;
    ItemRef found;
  };
  std::vector<Slot> slots;
  std::vector<size_t> on_disk;  // indexes into slots
  std::vector<std::string_view> keys;
  const bool in_service = !failed_.load(std::memory_order_relaxed);
  for (PendingFetch& pending : work) {
    for (size_t i = 0; i < pending.batch->size(); ++i) {
      slots.push_back(Slot{pending.batch.get(), i, ItemRef()});
      if (!in_service) continue;
      const std::string& key = pending.batch->ticket(i).key;
      // The queue is newer than the disk: what it holds (or hides) wins.
      if (std::optional<ItemRef> queued = queue_.Lookup(key)) {
        if (*queued) slots.back().found = CopyLive(**queued, now);
        continue;
      }
      on_disk.push_back(slots.size() - 1);
      keys.push_back(key);
    }
  }
  if (!keys.empty()) {
    std::vector<Result<std::string>> records;
    kv_->MultiGet(keys, &records);
    for (size_t j = 0; j < keys.size(); ++j) {
      slots[on_disk[j]].found = FromRecord(keys[j], records[j]);
    }
  }
  for (Slot& slot : slots) {
    (slot.found ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
    const FetchOutcome outcome =
        memory_->EndFetch(&slot.batch->ticket(slot.index), std::move(slot.found));
    if (outcome == FetchOutcome::kInstalled) {
      (reload ? reloaded_items_ : promotions_).fetch_add(1, std::memory_order_relaxed);
    }
    slot.batch->SetOutcome(slot.index, outcome);
  }
}

ItemRef WarmTier::CopyLive(const Item& queued, int64_t now) const {
  if (IsExpired(queued.exptime, now) || flush_->IsFlushed(queued.time, queued.cas, now)) {
    return ItemRef();
  }
  return ItemRef::Copy(queued);
}

ItemRef WarmTier::FromRecord(std::string_view key, const Result<std::string>& record) {
  if (!record.ok()) {
    if (record.status().code() != StatusCode::kNotFound) {
      if (read_errors_.fetch_add(1, std::memory_order_relaxed) < kLoggedReadErrors) {
        spdlog::warn("warm tier: read of a key failed: {}", record.status().ToString());
      }
    }
    return ItemRef();
  }
  const std::string& bytes = record.value();
  Result<rocks::RecordMeta> meta = codec_.DecodeMeta(bytes);
  const int64_t now = clock_->NowSeconds();
  if (meta.ok() &&
      (IsExpired(meta->exptime, now) || flush_->IsFlushed(meta->time, meta->cas, now))) {
    return ItemRef();
  }
  ItemRef item = meta.ok() ? ItemRef::Allocate(key, meta->value_len) : ItemRef();
  const Status decoded = meta.ok() ? (item ? codec_.DecodeValue(bytes, *meta, item->mutable_value())
                                           : Status::IoError("out of memory"))
                                   : meta.status();
  if (!decoded.ok()) {
    // A torn or damaged record is a miss, never a wrong value.
    if (read_errors_.fetch_add(1, std::memory_order_relaxed) < kLoggedReadErrors) {
      spdlog::warn("warm tier: unreadable record ({}); served as a miss", decoded.ToString());
    }
    return ItemRef();
  }
  item->client_flags = meta->client_flags;
  item->exptime = meta->exptime;
  item->cas = meta->cas;
  item->time = meta->time;
  ApplyBits(meta->item_bits, item.get());
  return item;
}

void WarmTier::ResetStats() {
  for (std::atomic<uint64_t>* counter :
       {&spills_, &clean_drops_, &invalidations_, &hits_, &misses_, &promotions_, &read_errors_,
        &write_errors_, &bytes_raw_, &bytes_stored_}) {
    counter->store(0, std::memory_order_relaxed);
  }
  std::lock_guard lock(reset_mu_);
  kv_baseline_ = kv_->Counters();
}

WarmStats WarmTier::Stats() {
  WarmStats s;
  s.items = kv_->ApproximateKeys();
  s.disk_bytes = kv_->ApproximateDiskBytes();
  s.spills = spills_.load(std::memory_order_relaxed);
  s.clean_drops = clean_drops_.load(std::memory_order_relaxed);
  s.invalidations = invalidations_.load(std::memory_order_relaxed);
  s.queue_entries = queue_.pending_entries();
  s.queue_bytes = queue_.pending_bytes();
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.promotions = promotions_.load(std::memory_order_relaxed);
  s.read_errors = read_errors_.load(std::memory_order_relaxed);
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
  const rocks::KvCounters counters = kv_->Counters();
  {
    std::lock_guard lock(reset_mu_);
    s.budget_drops = counters.dropped_files - kv_baseline_.dropped_files;
    s.budget_dropped_bytes = counters.dropped_bytes - kv_baseline_.dropped_bytes;
  }
  s.bytes_raw = bytes_raw_.load(std::memory_order_relaxed);
  s.bytes_stored = bytes_stored_.load(std::memory_order_relaxed);
  s.start = restored_.start;
  static constexpr const char* kReloadStates[] = {"none", "running", "done"};
  s.reload_state = kReloadStates[reload_state_.load(std::memory_order_relaxed)];
  s.reloaded_items = reloaded_items_.load(std::memory_order_relaxed);
  s.snapshots = snapshots_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace warmcache::storage::warm
