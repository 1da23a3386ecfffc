// SPDX-License-Identifier: BSD-3-Clause
#include "storage/warm/warm_tier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
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
  Result<std::unique_ptr<rocks::Dictionary>> dictionary =
      rocks::Dictionary::FromFile(DictionaryPath(), options_.compress_level);
  if (dictionary.status().code() == StatusCode::kNotFound) return;
  // Records written with it need it; without it they read as damaged, which is a miss.
  if (!dictionary.ok()) {
    spdlog::warn("warm tier: unreadable zstd dictionary {}: {}", DictionaryPath(),
                 dictionary.status().ToString());
    return;
  }
  codec_.SetDictionary(std::move(dictionary).value());
  dictionary_done_ = true;  // a database has at most one
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
  return queue_.MaybeQueued(key) || kv_->MayContain(key);
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
