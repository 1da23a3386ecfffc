// SPDX-License-Identifier: BSD-3-Clause
#include "storage/warm/warm_tier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace warmcache::storage::warm {

namespace {

constexpr size_t kBatchEntries = 512;
constexpr size_t kBatchBytes = 4u << 20;
constexpr auto kWriterIdleWait = std::chrono::milliseconds(100);

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
  const uint64_t write_buffer = std::clamp<uint64_t>(disk_limit / 16, 1u << 20, 16u << 20);
  // Two memtables' worth of WAL, two memtables being flushed, and 1 MiB for RocksDB's own
  // files (MANIFEST, OPTIONS, a capped info log).
  const uint64_t headroom = 4 * write_buffer + (1u << 20);
  return DiskBudget{write_buffer, disk_limit > 2 * headroom ? disk_limit - headroom : headroom};
}

Result<std::unique_ptr<WarmTier>> WarmTier::Open(const WarmOptions& options, const Clock* clock,
                                                 const FlushState* flush, MemoryTier* memory) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Status::IoError("cannot create data directory " + options.data_dir + ": " +
                           ec.message());
  }
  const DiskBudget budget = SplitDiskBudget(options.disk_limit);
  rocks::KvOptions kv_options;
  kv_options.path = options.data_dir;
  kv_options.block_cache_bytes = options.block_cache_bytes;
  kv_options.write_buffer_bytes = budget.write_buffer_bytes;
  kv_options.table_budget_bytes = budget.table_bytes;
  Result<std::unique_ptr<rocks::KvStore>> kv = rocks::KvStore::Open(kv_options, clock, flush);
  if (!kv.ok()) {
    return Status(kv.status().code(),
                  "data directory " + options.data_dir + ": " + kv.status().message());
  }
  std::unique_ptr<WarmTier> tier(
      new WarmTier(options, clock, flush, memory, std::move(kv).value()));
  tier->may_hold_keys_.store(tier->kv_->HasAnyKey(), std::memory_order_relaxed);
  tier->writer_ = std::thread([t = tier.get()] { t->WriterMain(); });
  pthread_setname_np(tier->writer_.native_handle(), "wc-spill");
  tier->readers_.Start(std::max(1, options.io_threads), "wc-warm-io");
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

void WarmTier::Stop() {
  if (stopped_.exchange(true)) return;
  readers_.Stop();
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
  queue_.PushInvalidate(key);
}

void WarmTier::WhenRoom(std::function<void()> wake) { queue_.WhenRoom(std::move(wake)); }

void WarmTier::WriterMain() {
  std::vector<SpillQueue::Entry> batch;
  while (queue_.TakeBatch(&batch, kBatchEntries, kBatchBytes, kWriterIdleWait)) {
    if (!batch.empty()) WriteBatch(batch);
    queue_.Retire(&batch);
  }
}

void WarmTier::WriteBatch(std::vector<SpillQueue::Entry>& batch) {
  if (failed_.load(std::memory_order_relaxed)) return;  // out of service: evictions are lost
  std::vector<rocks::Mutation> mutations(batch.size());
  uint64_t raw = 0;
  uint64_t stored = 0;
  uint64_t spills = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const SpillQueue::Entry& entry = batch[i];
    rocks::Mutation& m = mutations[i];
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
    codec_.Encode(meta, item.value(), &m.record);
    raw += item.value_len;
    stored += m.record.size();
    ++spills;
  }
  const Status status = kv_->Write(mutations);
  if (!status.ok()) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    Fail(status, "write");
    return;
  }
  spills_.fetch_add(spills, std::memory_order_relaxed);
  invalidations_.fetch_add(batch.size() - spills, std::memory_order_relaxed);
  bytes_raw_.fetch_add(raw, std::memory_order_relaxed);
  bytes_stored_.fetch_add(stored, std::memory_order_relaxed);
}

void WarmTier::Fail(const Status& status, const char* what) {
  // An unapplied invalidation could let an old value be served: stop reading the disk at all.
  if (failed_.exchange(true)) return;
  spdlog::error("warm tier: {} failed ({}); disk tier out of service, RAM-only from now on", what,
                status.ToString());
}

// ---- reading (I/O threads) ----

void WarmTier::Fetch(std::shared_ptr<FetchBatch> batch, std::function<void()> done) {
  readers_.Submit([this, batch = std::move(batch), done = std::move(done)] {
    ReadBatch(batch.get());
    batch->Settle();
    done();
  });
}

void WarmTier::ReadBatch(FetchBatch* batch) {
  const int64_t now = clock_->NowSeconds();
  const size_t n = batch->size();
  std::vector<ItemRef> found(n);
  std::vector<size_t> on_disk;
  std::vector<std::string_view> keys;
  const bool in_service = !failed_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < n && in_service; ++i) {
    const std::string& key = batch->ticket(i).key;
    // The queue is newer than the disk: what it holds (or hides) wins.
    if (std::optional<ItemRef> queued = queue_.Lookup(key)) {
      if (*queued) found[i] = CopyLive(**queued, now);
      continue;
    }
    on_disk.push_back(i);
    keys.push_back(key);
  }
  if (!keys.empty()) {
    std::vector<Result<std::string>> records;
    kv_->MultiGet(keys, &records);
    for (size_t j = 0; j < keys.size(); ++j) found[on_disk[j]] = FromRecord(keys[j], records[j]);
  }
  for (size_t i = 0; i < n; ++i) {
    (found[i] ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
    const FetchOutcome outcome = memory_->EndFetch(&batch->ticket(i), std::move(found[i]));
    if (outcome == FetchOutcome::kInstalled) promotions_.fetch_add(1, std::memory_order_relaxed);
    batch->SetOutcome(i, outcome);
  }
}

ItemRef WarmTier::CopyLive(const Item& queued, int64_t now) const {
  if (IsExpired(queued.exptime, now) || flush_->IsFlushed(queued.time, queued.cas, now)) {
    return ItemRef();
  }
  ItemRef copy = ItemRef::Allocate(queued.key(), queued.value_len);
  if (!copy) return copy;
  std::memcpy(copy->mutable_value(), queued.value().data(), queued.value_len);
  copy->client_flags = queued.client_flags;
  copy->exptime = queued.exptime;
  copy->cas = queued.cas;
  copy->time = queued.time;
  ApplyBits(BitsOf(queued), copy.get());
  return copy;
}

ItemRef WarmTier::FromRecord(std::string_view key, const Result<std::string>& record) {
  if (!record.ok()) {
    if (record.status().code() != StatusCode::kNotFound) {
      read_errors_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("warm tier: read of a key failed: {}", record.status().ToString());
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
    read_errors_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("warm tier: unreadable record ({}); served as a miss", decoded.ToString());
    return ItemRef();
  }
  item->client_flags = meta->client_flags;
  item->exptime = meta->exptime;
  item->cas = meta->cas;
  item->time = meta->time;
  ApplyBits(meta->item_bits, item.get());
  return item;
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
  s.budget_drops = counters.dropped_files;
  s.budget_dropped_bytes = counters.dropped_bytes;
  s.bytes_raw = bytes_raw_.load(std::memory_order_relaxed);
  s.bytes_stored = bytes_stored_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace warmcache::storage::warm
