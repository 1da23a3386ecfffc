// SPDX-License-Identifier: BSD-3-Clause
// Evicted items and invalidations on their way to disk, in the order they happened.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/memory/item.h"

namespace warmcache::storage::warm {

// Until the writer has applied an entry, readers find it here (Lookup): an item is readable
// while queued, and a queued invalidation hides the disk copy it is about to delete.
// Thread safety: every method may be called from any thread. Push* run with a memory-tier
// shard mutex held (lock order: shard mutex -> queue mutex), so they only append and signal.
// Invariants (under mu_):
//   1. index_[k] describes the newest queued or in-flight entry for k.
//   2. An entry leaves index_ only in Retire, after the writer has applied it to disk.
class SpillQueue {
 public:
  struct Entry {
    std::string key;
    ItemRef item;  // empty: invalidate the key (unless a barrier)
    uint64_t seq = 0;
    size_t bytes = 0;
    // No key: the writer saves the warm tier's own state (flush_all) with this batch.
    bool barrier = false;
  };

  explicit SpillQueue(size_t limit_bytes) : limit_bytes_(limit_bytes) {}

  // Each returns the entry's sequence number: IsDurable(seq) once the writer has applied it.
  uint64_t PushItem(ItemRef item);
  uint64_t PushInvalidate(std::string_view key);
  uint64_t PushBarrier();
  // The newest pending entry for `key`: nullopt if none; an empty ItemRef if it is an
  // invalidation.
  std::optional<ItemRef> Lookup(std::string_view key) const;
  // False if nothing is queued for `key`, decided without the mutex (a counting filter): the
  // check every store of a new key makes.
  bool MaybeQueued(std::string_view key) const {
    return pending_by_hash_[Slot(key)].load(std::memory_order_acquire) != 0;
  }

  // Waits up to `wait` for entries, then moves the oldest (up to max_entries or max_bytes) into
  // *batch; they stay visible to Lookup until Retire(*batch). Returns false once Stop() was
  // called and nothing is left.
  bool TakeBatch(std::vector<Entry>* batch, size_t max_entries, size_t max_bytes,
                 std::chrono::milliseconds wait);
  // The writer applied `batch` to disk (or gave up on it): forget it, and wake waiters once
  // the backlog is down to half the limit.
  void Retire(std::vector<Entry>* batch);

  // More bytes pending than the limit: writers should wait (see WhenRoom).
  bool Backlogged() const { return bytes_.load(std::memory_order_relaxed) > limit_bytes_; }
  // Calls `wake` once the backlog has room (at once, on this thread, if it has room now).
  void WhenRoom(std::function<void()> wake);
  // Whether every entry up to `seq` has been applied (written to RocksDB's log).
  bool IsDurable(uint64_t seq) const { return durable_seq_.load(std::memory_order_acquire) >= seq; }
  // Calls `wake` once IsDurable(seq) (at once, on this thread, if it is already).
  void WhenDurable(uint64_t seq, std::function<void()> wake);
  void Stop();

  size_t pending_entries() const { return entries_.load(std::memory_order_relaxed); }
  size_t pending_bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    uint64_t seq;
    ItemRef item;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  uint64_t PushLocked(Entry entry);
  static size_t Slot(std::string_view key) {
    return std::hash<std::string_view>{}(key) & (kFilterSlots - 1);
  }
  static constexpr size_t kFilterSlots = size_t{1} << 16;
  void TakeDurableWaitersLocked(uint64_t durable, std::vector<std::function<void()>>* wake);

  const size_t limit_bytes_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Entry> queue_;                                                  // guarded by mu_
  std::unordered_map<std::string, Pending, Hash, std::equal_to<>> index_;    // guarded by mu_
  std::vector<std::function<void()>> waiters_;                               // guarded by mu_
  std::vector<std::pair<uint64_t, std::function<void()>>> durable_waiters_;  // guarded by mu_
  uint64_t next_seq_ = 1;                                                    // guarded by mu_
  bool stopped_ = false;                                                     // guarded by mu_
  std::atomic<size_t> bytes_{0};
  std::atomic<size_t> entries_{0};
  std::atomic<uint64_t> durable_seq_{0};
  // Entries queued or in flight per key-hash slot: incremented before an entry is visible to
  // Lookup, decremented after it left.
  std::unique_ptr<std::atomic<uint32_t>[]> pending_by_hash_ {
    new std::atomic<uint32_t>[ kFilterSlots ]()
  };
};

}  // namespace warmcache::storage::warm
