// SPDX-License-Identifier: BSD-3-Clause
#include "storage/warm/spill_queue.h"

#include <algorithm>

namespace warmcache::storage::warm {

namespace {
// What an invalidation costs in the backlog: its key and bookkeeping.
constexpr size_t kEntryOverhead = 96;
}  // namespace

uint64_t SpillQueue::PushItem(ItemRef item) {
  Entry entry;
  entry.key.assign(item->key());
  entry.bytes = Item::TotalSize(item->key_len, item->value_len) + kEntryOverhead;
  entry.item = std::move(item);
  std::lock_guard lock(mu_);
  return PushLocked(std::move(entry));
}

uint64_t SpillQueue::PushInvalidate(std::string_view key) {
  Entry entry;
  entry.key.assign(key);
  entry.bytes = key.size() + kEntryOverhead;
  std::lock_guard lock(mu_);
  return PushLocked(std::move(entry));
}

uint64_t SpillQueue::PushBarrier() {
  Entry entry;
  entry.barrier = true;
  entry.bytes = kEntryOverhead;
  std::lock_guard lock(mu_);
  return PushLocked(std::move(entry));
}

uint64_t SpillQueue::PushLocked(Entry entry) {
  entry.seq = next_seq_++;
  const uint64_t seq = entry.seq;
  if (!entry.barrier) {
    pending_by_hash_[Slot(entry.key)].fetch_add(1, std::memory_order_release);
    index_.insert_or_assign(entry.key, Pending{entry.seq, entry.item});
  }
  bytes_.fetch_add(entry.bytes, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
  const bool was_empty = queue_.empty();
  queue_.push_back(std::move(entry));
  // The writer sleeps only on an empty queue; later pushes find it busy.
  if (was_empty) ready_.notify_one();
  return seq;
}

std::optional<ItemRef> SpillQueue::Lookup(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second.item;
}

bool SpillQueue::TakeBatch(std::vector<Entry>* batch, size_t max_entries, size_t max_bytes,
                           std::chrono::milliseconds wait) {
  batch->clear();
  std::unique_lock lock(mu_);
  if (queue_.empty() && !stopped_) ready_.wait_for(lock, wait);
  size_t bytes = 0;
  while (!queue_.empty() && batch->size() < max_entries && bytes < max_bytes) {
    bytes += queue_.front().bytes;
    batch->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return !(stopped_ && batch->empty());
}

void SpillQueue::Retire(std::vector<Entry>* batch) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    size_t bytes = 0;
    for (const Entry& entry : *batch) {
      bytes += entry.bytes;
      if (entry.barrier) continue;
      pending_by_hash_[Slot(entry.key)].fetch_sub(1, std::memory_order_release);
      auto it = index_.find(entry.key);
      if (it != index_.end() && it->second.seq == entry.seq) index_.erase(it);
    }
    bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    entries_.fetch_sub(batch->size(), std::memory_order_relaxed);
    if (bytes_.load(std::memory_order_relaxed) <= limit_bytes_ / 2) wake.swap(waiters_);
    // One writer takes entries in order, so a batch's last entry bounds everything applied.
    if (!batch->empty()) {
      const uint64_t durable = batch->back().seq;
      durable_seq_.store(durable, std::memory_order_release);
      TakeDurableWaitersLocked(durable, &wake);
    }
  }
  // Items are released outside the lock: freeing memory is not queue work.
  batch->clear();
  for (auto& fn : wake) fn();
}

void SpillQueue::WhenRoom(std::function<void()> wake) {
  {
    std::lock_guard lock(mu_);
    if (bytes_.load(std::memory_order_relaxed) > limit_bytes_ / 2 && !stopped_) {
      waiters_.push_back(std::move(wake));
      return;
    }
  }
  wake();
}

void SpillQueue::WhenDurable(uint64_t seq, std::function<void()> wake) {
  {
    std::lock_guard lock(mu_);
    if (!IsDurable(seq) && !stopped_) {
      durable_waiters_.emplace_back(seq, std::move(wake));
      return;
    }
  }
  wake();
}

void SpillQueue::TakeDurableWaitersLocked(uint64_t durable,
                                          std::vector<std::function<void()>>* wake) {
  auto ready = std::partition(durable_waiters_.begin(), durable_waiters_.end(),
                              [durable](const auto& waiter) { return waiter.first > durable; });
  for (auto it = ready; it != durable_waiters_.end(); ++it) wake->push_back(std::move(it->second));
  durable_waiters_.erase(ready, durable_waiters_.end());
}

void SpillQueue::Stop() {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    wake.swap(waiters_);
    // Nothing more will be written: a reply held for durability goes out (the tier has stopped
    // taking writes only at shutdown, after the last connection).
    TakeDurableWaitersLocked(UINT64_MAX, &wake);
  }
  ready_.notify_all();
  for (auto& fn : wake) fn();
}

}  // namespace warmcache::storage::warm
