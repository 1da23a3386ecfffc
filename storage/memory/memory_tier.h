// SPDX-License-Identifier: BSD-3-Clause
// The hot tier: a sharded hash table with a segmented LRU, bounded by -m.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/clock.h"
#include "storage/flush_state.h"
#include "storage/memory/item.h"
#include "storage/memory/size_classes.h"

namespace warmcache::storage {

struct MemoryTierOptions {
  size_t memory_limit = 64u << 20;  // -m: bytes of items plus hash table
  bool evict_when_full = true;      // -M turns this off: stores fail with kNoMemory instead
  int initial_hash_power = 16;      // -o hashpower: log2 of the initial bucket count
  double growth_factor = 1.25;      // -f: shapes the reporting size classes
  size_t min_chunk = 48;            // -n
  size_t item_size_max = 1u << 20;  // -I
  int protected_percent = 80;       // share of a shard's bytes the protected LRU may hold
};

// The seam to the tier below (the warm tier). Called with the key's shard lock held, so the
// calls for one key arrive in the order its changes happened; implementations only queue work.
// Never stale, even after a crash: a change to a key never leaves an older version of it below.
// Each change either writes the new version down (write-through) or invalidates the old one at
// once; the caller of the change (a session) holds its reply until that has reached the disk's
// log. So the disk holds, per key, nothing or exactly the version in RAM (kDiskClean).
class LowerTier {
 public:
  virtual ~LowerTier() = default;
  // An item evicted to make room. item->disk says whether the disk already holds it.
  virtual void OnEvict(const ItemRef& item) = 0;
  // Whatever the disk holds for `key` is no longer valid (deleted, or changed in RAM): it must
  // never be served again.
  virtual void OnInvalidate(std::string_view key) = 0;
  // Write-through: `item` (linked, just changed) is written down now and true returned; false
  // when the tier below only takes evictions.
  virtual bool OnChange(const Item& item) = 0;
  // flush_all changed the FlushState: it must outlive a restart.
  virtual void OnFlushAll() = 0;
  // False only while the tier below has never held anything.
  virtual bool MayHoldKeys() const = 0;
  // Whether the tier below may hold a record for `key`, decided without I/O (false: certainly
  // not).
  virtual bool MayHold(std::string_view key) = 0;
};

// A key being read from the tier below while its RAM slot is empty. Registered with the key's
// shard until EndFetch, so a write to the key meanwhile invalidates what the read finds: that
// would be older than the write.
struct FetchTicket {
  std::string key;
  uint64_t hash = 0;
  bool invalidated = false;  // guarded by the shard mutex while registered
};

enum class FetchOutcome : uint8_t {
  kInstalled,    // the item found below is now in RAM
  kAbsent,       // nothing below, and no write raced: a RAM miss for this key is final
  kInvalidated,  // the key was written meanwhile: look again
  kNoMemory,     // found, but RAM is full and evictions are off (-M)
};

// Per-class counters, summed over shards for `stats items` / `stats slabs`.
struct ClassCounters {
  uint64_t items = 0;
  uint64_t items_probation = 0;
  uint64_t bytes = 0;  // mem_requested
  uint64_t evicted = 0;
  uint64_t evicted_nonzero = 0;
  uint64_t evicted_unfetched = 0;
  uint64_t evicted_time = 0;  // seconds since last access of the last evicted item
  uint64_t outofmemory = 0;
  uint64_t reclaimed = 0;
  uint64_t expired_unfetched = 0;
  uint64_t crawler_reclaimed = 0;
  uint64_t hits_to_probation = 0;
  uint64_t hits_to_protected = 0;
  uint64_t moves_to_protected = 0;
  uint64_t moves_to_probation = 0;
  void Add(const ClassCounters& o);
};

struct MemoryTierStats {
  uint64_t curr_items = 0;
  uint64_t bytes = 0;        // sum of item sizes (memcached's `bytes`)
  uint64_t used_memory = 0;  // what counts against -m: item allocations plus buckets
  uint64_t total_items = 0;
  uint64_t evictions = 0;
  uint64_t evicted_unfetched = 0;
  uint64_t expired_unfetched = 0;
  uint64_t reclaimed = 0;
  uint64_t crawler_reclaimed = 0;
  uint64_t crawler_items_checked = 0;
  uint64_t malloc_fails = 0;
  uint64_t hash_buckets = 0;
  uint64_t oldest_item_age = 0;        // seconds since the least recently used item was touched
  std::vector<ClassCounters> classes;  // indexed by class id
};

// Thread safety: every public method may be called from any thread. Each shard has one mutex;
// no code path holds two shard mutexes at once, and no I/O happens under one.
// Invariants (per shard, under its mutex):
//   1. An item is linked in exactly one hash chain and one LRU list iff `linked`.
//   2. The table holds one reference to each linked item.
//   3. bytes/segment counters equal the sums over linked items.
class MemoryTier {
 private:
  struct Shard;

 public:
  MemoryTier(const MemoryTierOptions& options, const Clock* clock, const FlushState* flush);
  ~MemoryTier();
  MemoryTier(const MemoryTier&) = delete;
  MemoryTier& operator=(const MemoryTier&) = delete;

  // A locked view of one key, valid only inside WithKey's callback.
  class KeyTxn {
   public:
    // The live item under the key, or nullptr. Expired or flushed items are unlinked on sight.
    Item* item() const { return item_; }
    ItemRef Ref() const;
    // Marks the item fetched and moves it up its LRU (a hit).
    void RecordHit();
    // Links `item` (detached, key equal to this key) in place of the current one. Returns false
    // and changes nothing when memory is full and evictions are disabled.
    bool Store(ItemRef item);
    void Remove();
    void SetExptime(uint32_t exptime);
    // Meta W: marks that a client was told to recache.
    void MarkWinSent();
    // Removes the key from RAM and makes sure the tier below never serves it either: a refused
    // or failed set must not leave the old value readable anywhere.
    void Forget();
    // The slot is empty: registers a read of the tier below (see FetchTicket).
    void BeginFetch(FetchTicket* ticket);
    int64_t now() const { return now_; }
    std::string_view key() const { return key_; }
    // Whether a lower tier exists and may hold this key (no I/O).
    bool LowerMayHold() const { return tier_->lower_ != nullptr && tier_->lower_->MayHoldKeys(); }
    bool was_expired() const { return saw_expired_; }
    bool was_flushed() const { return saw_flushed_; }

   private:
    friend class MemoryTier;
    KeyTxn(MemoryTier* tier, Shard* shard, std::string_view key, uint64_t hash, int64_t now);
    // `item` (linked under this key) just changed: no older version may stay below.
    void SupersedeBelow(Item* item, bool older_may_be_below);
    MemoryTier* tier_;
    Shard* shard_;
    std::string_view key_;
    uint64_t hash_;
    int64_t now_;
    Item* item_ = nullptr;
    bool saw_expired_ = false;
    bool saw_flushed_ = false;
  };

  // Runs fn(KeyTxn&) with the key's shard locked; fn must not block.
  template <typename Fn>
  auto WithKey(std::string_view key, Fn&& fn) {
    const uint64_t hash = Hash(key);
    Shard& shard = ShardFor(hash);
    std::unique_lock lock(shard.mu);
    KeyTxn txn(this, &shard, key, hash, clock_->NowSeconds());
    auto result = fn(txn);
    // Compared, never dereferenced: the item this request stored must not pay for its own room.
    const Item* keep = txn.item();
    lock.unlock();
    if (used_.load(std::memory_order_relaxed) > limit_.load(std::memory_order_relaxed)) {
      EnforceLimitAcrossShards(keep);
    }
    return result;
  }

  // Ends a fetch begun with KeyTxn::BeginFetch. `found` (empty if the lower tier had nothing)
  // is linked only if no write to the key raced the read; it keeps its CAS and times, and is
  // marked as clean on disk.
  FetchOutcome EndFetch(FetchTicket* ticket, ItemRef found);

  // Drops expired and flushed items, a slice of buckets per lock hold. Only shards holding
  // items with a TTL are walked, and all of them once after a flush_all takes effect, so a
  // cache without TTLs costs the crawler nothing. Returns how many were reclaimed. Called by
  // the background crawler thread only.
  size_t ReclaimExpired();
  // Removes every item (used by tests and by `flush_all` implementations that want it eager).
  void Clear();
  // Calls fn(item, now) on live items, one shard lock at a time, until fn returns false. For
  // bounded admin dumps (`stats cachedump`), not for the request path.
  void ForEachLiveItem(const std::function<bool(const Item&, int64_t now)>& fn) const;
  // Snapshots: calls fn(item) under its shard lock for every live item the tier below does not
  // hold yet (kNoDiskCopy), marking it kDiskClean when fn returns true (fn has taken a copy
  // down). `shard_done` runs between shards, without a lock (to wait for room).
  void ForEachUnsaved(const std::function<bool(const Item&)>& fn,
                      const std::function<void()>& shard_done);
  // The keys of live items, hottest first (protected, i.e. read again, before probation; then
  // the most recently used), up to `max_bytes` of items: what a restart loads back first.
  std::vector<std::string> HottestKeys(size_t max_bytes) const;

  // flush_all changed the FlushState: the tier below must keep it across restarts.
  void NoteFlushAll() {
    if (lower_ != nullptr) lower_->OnFlushAll();
  }
  // Set before serving and cleared only after the last request; not owned.
  void SetLowerTier(LowerTier* lower) { lower_ = lower; }
  // cache_memlimit: changes -m at run time; evicts down to the new limit.
  void SetMemoryLimit(size_t bytes);
  size_t memory_limit() const { return limit_.load(std::memory_order_relaxed); }
  size_t used_memory() const { return used_.load(std::memory_order_relaxed); }
  const SizeClasses& size_classes() const { return classes_; }
  MemoryTierStats Stats() const;
  // `stats reset`: zeroes the cumulative counters (evictions, total_items, ...), not the gauges.
  void ResetStats();

  static uint64_t Hash(std::string_view key);

 private:
  enum Segment : uint8_t { kProbation = 0, kProtected = 1 };
  struct LruList {
    Item* head = nullptr;  // most recently used
    Item* tail = nullptr;
    uint64_t bytes = 0;
  };
  struct Shard {
    std::mutex mu;
    std::vector<Item*> buckets;
    uint64_t items = 0;
    uint64_t expiring = 0;  // linked items with an exptime: the crawler skips shards with none
    LruList lru[2];
    uint64_t reclaim_cursor = 0;
    uint64_t total_items = 0;
    uint64_t crawler_items_checked = 0;
    std::array<ClassCounters, SizeClasses::kMaxClasses> classes{};
    std::vector<FetchTicket*> fetches;  // in flight for keys of this shard (not owned)
  };

  Shard& ShardFor(uint64_t hash) { return shards_[hash >> (64 - kShardBits)]; }
  Item** FindSlotLocked(Shard& shard, std::string_view key, uint64_t hash);
  void LinkLocked(Shard& shard, Item* item, uint64_t hash, int64_t now);
  void UnlinkLocked(Shard& shard, Item* item);
  // A dead or removed item leaves RAM: invalidate an older disk copy if there may be one.
  void DropLocked(Shard& shard, Item* item, bool removed);
  void InvalidateFetchesLocked(Shard& shard, std::string_view key, uint64_t hash);
  void LruPushHeadLocked(Shard& shard, Item* item, Segment segment);
  void LruRemoveLocked(Shard& shard, Item* item);
  void BalanceSegmentsLocked(Shard& shard);
  // Evicts from this shard's probation tail until under the limit; `keep` is never evicted.
  void EvictLocked(Shard& shard, const Item* keep, int64_t now);
  // Evicts one LRU tail: probation first, protected only when `allow_protected`.
  bool EvictOneLocked(Shard& shard, const Item* keep, int64_t now, bool allow_protected);
  bool IsDeadLocked(const Item& item, int64_t now) const;
  void GrowLocked(Shard& shard);
  void EnforceLimitAcrossShards(const Item* keep = nullptr);
  void ChargeBuckets(int64_t delta_buckets);

  static constexpr int kShardBits = 6;
  static constexpr size_t kShards = size_t{1} << kShardBits;

  const MemoryTierOptions options_;
  const Clock* clock_;       // not owned; outlives the tier
  const FlushState* flush_;  // not owned; outlives the tier
  const SizeClasses classes_;
  LowerTier* lower_ = nullptr;  // not owned; see SetLowerTier
  std::atomic<size_t> limit_;
  std::atomic<size_t> used_{0};
  std::atomic<uint64_t> evict_cursor_{0};
  std::atomic<uint64_t> malloc_fails_{0};
  int64_t crawled_flush_ = 0;  // the flush deadline the crawler has already swept (crawler only)
  std::array<Shard, kShards> shards_;
};

}  // namespace warmcache::storage
