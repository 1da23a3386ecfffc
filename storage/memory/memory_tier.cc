// SPDX-License-Identifier: BSD-3-Clause
#include "storage/memory/memory_tier.h"

#include <xxhash.h>

#include <algorithm>

namespace warmcache::storage {

namespace {
constexpr size_t kReclaimSlice = 1024;  // buckets scanned per lock hold by the crawler
constexpr size_t kMinBucketsPerShard = 16;

size_t RoundUpPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
}  // namespace

void ClassCounters::Add(const ClassCounters& o) {
  items += o.items;
  items_probation += o.items_probation;
  bytes += o.bytes;
  evicted += o.evicted;
  evicted_nonzero += o.evicted_nonzero;
  evicted_unfetched += o.evicted_unfetched;
  evicted_time = std::max(evicted_time, o.evicted_time);
  outofmemory += o.outofmemory;
  reclaimed += o.reclaimed;
  expired_unfetched += o.expired_unfetched;
  crawler_reclaimed += o.crawler_reclaimed;
  hits_to_probation += o.hits_to_probation;
  hits_to_protected += o.hits_to_protected;
  moves_to_protected += o.moves_to_protected;
  moves_to_probation += o.moves_to_probation;
}

uint64_t MemoryTier::Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

MemoryTier::MemoryTier(const MemoryTierOptions& options, const Clock* clock,
                       const FlushState* flush)
    : options_(options),
      clock_(clock),
      flush_(flush),
      classes_(options.growth_factor, options.min_chunk, options.item_size_max),
      limit_(options.memory_limit) {
  const int power = std::clamp(options.initial_hash_power, 10, 32);
  const size_t per_shard =
      std::max(kMinBucketsPerShard, RoundUpPow2((size_t{1} << power) / kShards));
  for (Shard& shard : shards_) shard.buckets.assign(per_shard, nullptr);
}

MemoryTier::~MemoryTier() { Clear(); }

// ---- KeyTxn ----

MemoryTier::KeyTxn::KeyTxn(MemoryTier* tier, Shard* shard, std::string_view key, uint64_t hash,
                           int64_t now)
    : tier_(tier), shard_(shard), key_(key), hash_(hash), now_(now) {
  Item* found = *tier_->FindSlotLocked(*shard_, key, hash);
  if (found == nullptr) return;
  if (IsExpired(found->exptime, now)) {
    saw_expired_ = true;
  } else if (tier_->flush_->IsFlushed(found->time, found->cas, now)) {
    saw_flushed_ = true;
  } else {
    item_ = found;
    return;
  }
  if (!found->fetched) shard_->classes[found->size_class].expired_unfetched++;
  shard_->classes[found->size_class].reclaimed++;
  tier_->DropLocked(*shard_, found, /*removed=*/false);
}

ItemRef MemoryTier::KeyTxn::Ref() const {
  ItemRef::Acquire(item_);
  return ItemRef(item_);
}

void MemoryTier::KeyTxn::RecordHit() {
  if (item_ == nullptr) return;
  item_->fetched = true;
  item_->time = static_cast<uint32_t>(now_);
  ClassCounters& counters = shard_->classes[item_->size_class];
  tier_->LruRemoveLocked(*shard_, item_);
  if (item_->promoted) {
    // A disk read promotes into probation only; a scan of disk items must not fill protected.
    item_->promoted = false;
    tier_->LruPushHeadLocked(*shard_, item_, static_cast<Segment>(item_->segment));
    return;
  }
  if (item_->segment == kProbation) {
    counters.hits_to_probation++;
    counters.moves_to_protected++;
  } else {
    counters.hits_to_protected++;
  }
  tier_->LruPushHeadLocked(*shard_, item_, kProtected);
  tier_->BalanceSegmentsLocked(*shard_);
}

bool MemoryTier::KeyTxn::Store(ItemRef fresh) {
  Item* item = fresh.get();
  item->time = static_cast<uint32_t>(now_);
  // Installs from below arrive marked clean: they are the disk's own version.
  const bool from_below = item->disk == kDiskClean;
  LowerTier* lower = tier_->lower_;
  const bool older_may_be_below =
      !from_below && lower != nullptr &&
      (item_ != nullptr ? item_->disk != kNoDiskCopy : lower->MayHold(key_));
  item->size_class = tier_->classes_.ClassFor(Item::TotalSize(item->key_len, item->value_len));
  if (!tier_->options_.evict_when_full) {
    const size_t freed = item_ ? item_->charged : 0;
    const size_t limit = tier_->limit_.load(std::memory_order_relaxed);
    while (tier_->used_.load(std::memory_order_relaxed) + item->charged - freed > limit) {
      // Without evictions only dead items may make room.
      Item* tail = shard_->lru[kProbation].tail ? shard_->lru[kProbation].tail
                                                : shard_->lru[kProtected].tail;
      if (tail == nullptr || tail == item_ || !tier_->IsDeadLocked(*tail, now_)) {
        shard_->classes[item->size_class].outofmemory++;
        return false;
      }
      tier_->EvictOneLocked(*shard_, item_, now_, /*allow_protected=*/true);
    }
  }
  if (item_ != nullptr) tier_->UnlinkLocked(*shard_, item_);
  tier_->LinkLocked(*shard_, fresh.release(), hash_, now_);
  item_ = item;
  if (!from_below) SupersedeBelow(item, older_may_be_below);
  if (tier_->options_.evict_when_full) tier_->EvictLocked(*shard_, item_, now_);
  return true;
}

void MemoryTier::KeyTxn::SupersedeBelow(Item* item, bool older_may_be_below) {
  LowerTier* lower = tier_->lower_;
  item->disk = kNoDiskCopy;
  if (lower == nullptr) return;
  if (lower->OnChange(*item)) {
    item->disk = kDiskClean;  // the new version is on its way down, after any older one
    return;
  }
  if (older_may_be_below) lower->OnInvalidate(key_);
}

void MemoryTier::KeyTxn::Remove() {
  if (item_ == nullptr) return;
  tier_->DropLocked(*shard_, item_, /*removed=*/true);
  item_ = nullptr;
}

void MemoryTier::KeyTxn::SetExptime(uint32_t exptime) {
  if (item_ == nullptr) return;
  shard_->expiring += (exptime != 0) - (item_->exptime != 0);
  item_->exptime = exptime;
  SupersedeBelow(item_, item_->disk != kNoDiskCopy);  // the disk copy has the old expiry
}

void MemoryTier::KeyTxn::MarkWinSent() {
  if (item_ == nullptr) return;
  item_->win_sent = true;
  SupersedeBelow(item_, item_->disk != kNoDiskCopy);
}

void MemoryTier::KeyTxn::Forget() {
  if (item_ != nullptr) return Remove();  // the item's disk state says what to invalidate
  if (tier_->lower_ == nullptr) return;
  // Not in RAM: the key may be on disk, or being read from it.
  tier_->InvalidateFetchesLocked(*shard_, key_, hash_);
  if (tier_->lower_->MayHold(key_)) tier_->lower_->OnInvalidate(key_);
}

void MemoryTier::KeyTxn::BeginFetch(FetchTicket* ticket) {
  ticket->key.assign(key_);
  ticket->hash = hash_;
  ticket->invalidated = false;
  shard_->fetches.push_back(ticket);
}

FetchOutcome MemoryTier::EndFetch(FetchTicket* ticket, ItemRef found) {
  return WithKey(ticket->key, [&](KeyTxn& txn) {
    std::vector<FetchTicket*>& fetches = txn.shard_->fetches;
    fetches.erase(std::find(fetches.begin(), fetches.end(), ticket));
    // A linked item means the key was written after the fetch began (which invalidated it).
    if (ticket->invalidated || txn.item() != nullptr) return FetchOutcome::kInvalidated;
    if (!found) return FetchOutcome::kAbsent;
    Item* item = found.get();
    const uint32_t time = item->time;
    item->disk = kDiskClean;
    item->promoted = true;
    if (!txn.Store(std::move(found))) return FetchOutcome::kNoMemory;
    item->time = time;  // flush_all compares store times: keep the original one
    return FetchOutcome::kInstalled;
  });
}

// ---- table and LRU ----

Item** MemoryTier::FindSlotLocked(Shard& shard, std::string_view key, uint64_t hash) {
  Item** slot = &shard.buckets[hash & (shard.buckets.size() - 1)];
  while (*slot != nullptr && (*slot)->key() != key) slot = &(*slot)->hash_next;
  return slot;
}

void MemoryTier::LinkLocked(Shard& shard, Item* item, uint64_t hash, int64_t now) {
  if (!shard.fetches.empty()) InvalidateFetchesLocked(shard, item->key(), hash);
  Item*& head = shard.buckets[hash & (shard.buckets.size() - 1)];
  item->hash_next = head;
  head = item;
  item->linked = true;
  item->time = static_cast<uint32_t>(now);
  shard.items++;
  if (item->exptime != 0) shard.expiring++;
  shard.total_items++;
  ClassCounters& counters = shard.classes[item->size_class];
  counters.items++;
  counters.bytes += Item::TotalSize(item->key_len, item->value_len);
  LruPushHeadLocked(shard, item, kProbation);
  used_.fetch_add(item->charged, std::memory_order_relaxed);
  // Grow at an average chain of 2: chains stay short and the table costs ~4 B per item.
  if (shard.items > 2 * shard.buckets.size()) GrowLocked(shard);
}

void MemoryTier::UnlinkLocked(Shard& shard, Item* item) {
  Item** slot = FindSlotLocked(shard, item->key(), Hash(item->key()));
  *slot = item->hash_next;
  item->hash_next = nullptr;
  LruRemoveLocked(shard, item);
  item->linked = false;
  shard.items--;
  if (item->exptime != 0) shard.expiring--;
  ClassCounters& counters = shard.classes[item->size_class];
  counters.items--;
  counters.bytes -= Item::TotalSize(item->key_len, item->value_len);
  used_.fetch_sub(item->charged, std::memory_order_relaxed);
  ItemRef::Release(item);  // the table's reference
}

void MemoryTier::DropLocked(Shard& shard, Item* item, bool removed) {
  // The copy below, if any, is this very version (see LowerTier): it expires or is flushed
  // with it, but an explicit removal must take it too.
  if (removed && item->disk != kNoDiskCopy && lower_ != nullptr) lower_->OnInvalidate(item->key());
  UnlinkLocked(shard, item);
}

void MemoryTier::InvalidateFetchesLocked(Shard& shard, std::string_view key, uint64_t hash) {
  for (FetchTicket* ticket : shard.fetches) {
    if (ticket->hash == hash && ticket->key == key) ticket->invalidated = true;
  }
}

void MemoryTier::LruPushHeadLocked(Shard& shard, Item* item, Segment segment) {
  LruList& list = shard.lru[segment];
  item->segment = segment;
  item->lru_prev = nullptr;
  item->lru_next = list.head;
  if (list.head) list.head->lru_prev = item;
  list.head = item;
  if (list.tail == nullptr) list.tail = item;
  list.bytes += item->charged;
  if (segment == kProbation) shard.classes[item->size_class].items_probation++;
}

void MemoryTier::LruRemoveLocked(Shard& shard, Item* item) {
  LruList& list = shard.lru[item->segment];
  if (item->lru_prev)
    item->lru_prev->lru_next = item->lru_next;
  else
    list.head = item->lru_next;
  if (item->lru_next)
    item->lru_next->lru_prev = item->lru_prev;
  else
    list.tail = item->lru_prev;
  item->lru_prev = item->lru_next = nullptr;
  list.bytes -= item->charged;
  if (item->segment == kProbation) shard.classes[item->size_class].items_probation--;
}

void MemoryTier::BalanceSegmentsLocked(Shard& shard) {
  // A scan touches each key once, so it only ever fills probation; items hit again are
  // protected and survive it. Protected is capped at a share of the shard's part of the
  // memory limit, so probation keeps room to admit new items.
  const uint64_t cap = limit_.load(std::memory_order_relaxed) / kShards *
                       static_cast<uint64_t>(options_.protected_percent) / 100;
  while (shard.lru[kProtected].bytes > cap && shard.lru[kProtected].tail != nullptr) {
    Item* demoted = shard.lru[kProtected].tail;
    LruRemoveLocked(shard, demoted);
    LruPushHeadLocked(shard, demoted, kProbation);
    shard.classes[demoted->size_class].moves_to_probation++;
  }
}

bool MemoryTier::IsDeadLocked(const Item& item, int64_t now) const {
  return IsExpired(item.exptime, now) || flush_->IsFlushed(item.time, item.cas, now);
}

void MemoryTier::EvictLocked(Shard& shard, const Item* keep, int64_t now) {
  while (used_.load(std::memory_order_relaxed) > limit_.load(std::memory_order_relaxed)) {
    if (!EvictOneLocked(shard, keep, now, /*allow_protected=*/false)) break;
  }
}

bool MemoryTier::EvictOneLocked(Shard& shard, const Item* keep, int64_t now, bool allow_protected) {
  Item* victim = nullptr;
  for (Segment segment : {kProbation, kProtected}) {
    if (segment == kProtected && !allow_protected) break;
    victim = shard.lru[segment].tail;
    if (victim == keep && victim != nullptr) victim = victim->lru_prev;
    if (victim != nullptr) break;
  }
  if (victim == nullptr) return false;
  ClassCounters& counters = shard.classes[victim->size_class];
  if (IsDeadLocked(*victim, now)) {
    counters.reclaimed++;
    if (!victim->fetched) counters.expired_unfetched++;
    DropLocked(shard, victim, /*removed=*/false);
    return true;
  }
  counters.evicted++;
  if (victim->exptime != 0) counters.evicted_nonzero++;
  if (!victim->fetched) counters.evicted_unfetched++;
  counters.evicted_time = static_cast<uint64_t>(std::max<int64_t>(0, now - victim->time));
  if (lower_ != nullptr) {
    ItemRef::Acquire(victim);
    lower_->OnEvict(ItemRef(victim));
  }
  UnlinkLocked(shard, victim);
  return true;
}

void MemoryTier::GrowLocked(Shard& shard) {
  std::vector<Item*> grown(shard.buckets.size() * 2, nullptr);
  const size_t mask = grown.size() - 1;
  for (Item* head : shard.buckets) {
    while (head != nullptr) {
      Item* next = head->hash_next;
      Item*& bucket = grown[Hash(head->key()) & mask];
      head->hash_next = bucket;
      bucket = head;
      head = next;
    }
  }
  shard.buckets.swap(grown);
  shard.reclaim_cursor = 0;
}

void MemoryTier::EnforceLimitAcrossShards(const Item* keep) {
  if (!options_.evict_when_full) return;
  // Eviction normally happens in the shard being written. When that shard has no probation
  // items left (skew, or a lowered limit), take probation tails from the other shards
  // round-robin, and only when no shard has any, protected tails: a scan must not push out
  // items that were read again.
  for (bool allow_protected : {false, true}) {
    size_t idle_rounds = 0;
    while (used_.load(std::memory_order_relaxed) > limit_.load(std::memory_order_relaxed) &&
           idle_rounds < kShards) {
      Shard& shard = shards_[evict_cursor_.fetch_add(1, std::memory_order_relaxed) % kShards];
      std::lock_guard lock(shard.mu);
      const bool evicted = EvictOneLocked(shard, keep, clock_->NowSeconds(), allow_protected);
      idle_rounds = evicted ? 0 : idle_rounds + 1;
    }
  }
}

void MemoryTier::SetMemoryLimit(size_t bytes) {
  limit_.store(bytes, std::memory_order_relaxed);
  EnforceLimitAcrossShards();
}

size_t MemoryTier::ReclaimExpired() {
  size_t reclaimed = 0;
  const int64_t flush_deadline = flush_->oldest_live();
  const bool sweep_flushed = flush_deadline != 0 && flush_deadline <= clock_->NowSeconds() &&
                             flush_deadline != crawled_flush_;
  if (sweep_flushed) crawled_flush_ = flush_deadline;
  for (Shard& shard : shards_) {
    size_t scanned = 0;
    while (true) {
      std::lock_guard lock(shard.mu);
      if (scanned == 0 && shard.expiring == 0 && !sweep_flushed) break;
      const int64_t now = clock_->NowSeconds();
      const size_t nbuckets = shard.buckets.size();
      if (scanned >= nbuckets) break;
      const size_t end = std::min(nbuckets, scanned + kReclaimSlice);
      for (size_t b = scanned; b < end; ++b) {
        Item* item = shard.buckets[b];
        while (item != nullptr) {
          Item* next = item->hash_next;
          shard.crawler_items_checked++;
          if (IsDeadLocked(*item, now)) {
            ClassCounters& counters = shard.classes[item->size_class];
            counters.crawler_reclaimed++;
            if (!item->fetched) counters.expired_unfetched++;
            DropLocked(shard, item, /*removed=*/false);
            reclaimed++;
          }
          item = next;
        }
      }
      scanned = end;
    }
  }
  return reclaimed;
}

void MemoryTier::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (Item*& head : shard.buckets) {
      while (head != nullptr) UnlinkLocked(shard, head);
    }
  }
}

void MemoryTier::ResetStats() {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    shard.total_items = 0;
    shard.crawler_items_checked = 0;
    for (ClassCounters& c : shard.classes) {
      const ClassCounters gauges{
          .items = c.items, .items_probation = c.items_probation, .bytes = c.bytes};
      c = gauges;
    }
  }
  malloc_fails_.store(0, std::memory_order_relaxed);
}

void MemoryTier::ForEachLiveItem(const std::function<bool(const Item&, int64_t now)>& fn) const {
  for (const Shard& const_shard : shards_) {
    Shard& shard = const_cast<Shard&>(const_shard);  // locking is not a logical mutation
    std::lock_guard lock(shard.mu);
    const int64_t now = clock_->NowSeconds();
    for (const Item* head : shard.buckets) {
      for (const Item* item = head; item != nullptr; item = item->hash_next) {
        if (!IsDeadLocked(*item, now) && !fn(*item, now)) return;
      }
    }
  }
}

void MemoryTier::ForEachUnsaved(const std::function<bool(const Item&)>& fn,
                                const std::function<void()>& shard_done) {
  for (Shard& shard : shards_) {
    {
      std::lock_guard lock(shard.mu);
      const int64_t now = clock_->NowSeconds();
      for (Item* head : shard.buckets) {
        for (Item* item = head; item != nullptr; item = item->hash_next) {
          if (item->disk == kNoDiskCopy && !IsDeadLocked(*item, now) && fn(*item)) {
            item->disk = kDiskClean;
          }
        }
      }
    }
    shard_done();
  }
}

std::vector<std::string> MemoryTier::HottestKeys(size_t max_bytes) const {
  // A reload of this many items takes seconds; more would only make shutdown heavier.
  constexpr size_t kMaxKeys = size_t{1} << 20;
  struct Entry {
    uint64_t rank;  // protected (read again) before probation, then the most recent first
    std::string key;
    size_t bytes;
  };
  const auto hotter = [](const Entry& a, const Entry& b) { return a.rank > b.rank; };
  std::vector<Entry> heap;  // the kMaxKeys hottest so far; the coldest on top
  ForEachLiveItem([&](const Item& item, int64_t) {
    const uint64_t rank = (uint64_t{item.segment == kProtected} << 32) | item.time;
    if (heap.size() == kMaxKeys && rank <= heap.front().rank) return true;
    if (heap.size() == kMaxKeys) {
      std::pop_heap(heap.begin(), heap.end(), hotter);
      heap.pop_back();
    }
    heap.push_back(Entry{rank, std::string(item.key()), item.charged});
    std::push_heap(heap.begin(), heap.end(), hotter);
    return true;
  });
  std::sort_heap(heap.begin(), heap.end(), hotter);  // hottest first
  std::vector<std::string> keys;
  size_t total = 0;
  for (Entry& entry : heap) {
    total += entry.bytes;
    if (total > max_bytes) break;
    keys.push_back(std::move(entry.key));
  }
  return keys;
}

MemoryTierStats MemoryTier::Stats() const {
  MemoryTierStats stats;
  stats.classes.resize(SizeClasses::kMaxClasses);
  const int64_t now = clock_->NowSeconds();
  for (const Shard& const_shard : shards_) {
    Shard& shard = const_cast<Shard&>(const_shard);  // locking is not a logical mutation
    std::lock_guard lock(shard.mu);
    stats.curr_items += shard.items;
    stats.total_items += shard.total_items;
    stats.crawler_items_checked += shard.crawler_items_checked;
    stats.hash_buckets += shard.buckets.size();
    for (size_t c = 0; c < shard.classes.size(); ++c) stats.classes[c].Add(shard.classes[c]);
    for (const LruList& list : shard.lru) {
      if (list.tail != nullptr) {
        stats.oldest_item_age =
            std::max<uint64_t>(stats.oldest_item_age,
                               static_cast<uint64_t>(std::max<int64_t>(0, now - list.tail->time)));
      }
    }
  }
  for (const ClassCounters& c : stats.classes) {
    stats.bytes += c.bytes;
    stats.evictions += c.evicted;
    stats.evicted_unfetched += c.evicted_unfetched;
    stats.expired_unfetched += c.expired_unfetched;
    stats.reclaimed += c.reclaimed;
    stats.crawler_reclaimed += c.crawler_reclaimed;
  }
  stats.used_memory = used_.load(std::memory_order_relaxed);
  stats.malloc_fails = malloc_fails_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace warmcache::storage
